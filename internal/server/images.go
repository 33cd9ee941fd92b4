package server

import (
	"github.com/dockyard/dockyard/internal/api"
	"github.com/dockyard/dockyard/internal/config"
	"github.com/dockyard/dockyard/internal/containers"
	"github.com/dockyard/dockyard/internal/images"
	"github.com/dockyard/dockyard/internal/runtime"
)

// newImages builds the image catalogue (the images the containers use, with
// their digests from the runtimes that tell them) and its route.
func newImages(cfg config.Config, rts runtimes, ctrs *containers.Service, a *api.API) (*images.Catalogue, []api.Route) {
	digesters := map[string]runtime.ImageDigester{}
	for name, rt := range rts.byName {
		if d, ok := rt.(runtime.ImageDigester); ok {
			digesters[name] = d
		}
	}
	cat := images.New(images.Options{
		Digesters:         digesters,
		DefaultImage:      cfg.Containers.DefaultImage,
		DefaultRuntime:    cfg.Containers.Runtime,
		ProcessExecutable: agentExecutable(cfg),
		Containers:        ctrs.List,
	})
	i := &api.ImagesAPI{API: a, Images: cat}
	return cat, i.Routes()
}
