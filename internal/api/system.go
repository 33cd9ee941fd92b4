package api

import (
	"net/http"
)

func (a *API) systemRoutes() []Route {
	return []Route{
		{Method: "GET", Pattern: "/healthz", Cap: Public, Handle: func(w http.ResponseWriter, r *http.Request) error {
			return writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
		}},
	}
}
