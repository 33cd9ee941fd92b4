package api

import (
	"net/http"
)

func (a *API) systemRoutes() []Route {
	return []Route{
		{Method: "GET", Pattern: "/healthz", Cap: Public, Handle: func(w http.ResponseWriter, r *http.Request) error {
			return writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
		}},
		// The API's description is public like /healthz: it holds no
		// secrets, and tools fetch it before they have a token.
		{Method: "GET", Pattern: OpenAPIPath, Cap: Public, Action: "openapi", Handle: a.serveOpenAPI},
	}
}
