package api

import (
	"net/http"

	"github.com/dockyard/dockyard/internal/access"
	"github.com/dockyard/dockyard/internal/images"
	"github.com/dockyard/dockyard/internal/wire"
)

// ImagesAPI serves the image catalogue.
type ImagesAPI struct {
	*API
	Images *images.Catalogue
}

// Routes lists the image routes.
func (i *ImagesAPI) Routes() []Route {
	return []Route{
		{Method: "GET", Pattern: "/v1/images", Cap: access.CapListContainer, Action: "image.list", Handle: i.list},
	}
}

func (i *ImagesAPI) list(w http.ResponseWriter, r *http.Request) error {
	list, err := i.Images.List(r.Context())
	if err != nil {
		return err
	}
	out := make([]wire.Image, 0, len(list))
	for _, im := range list {
		out = append(out, wire.Image(im))
	}
	return writeJSON(w, http.StatusOK, out)
}
