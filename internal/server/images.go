package server

import (
	"context"

	"github.com/dockyard/dockyard/internal/api"
	"github.com/dockyard/dockyard/internal/images"
	"github.com/dockyard/dockyard/internal/runtime"
)

// openImages builds the image catalogue and its route.
func (s *Server) openImages(ctx context.Context) error {
	digesters := map[string]runtime.ImageDigester{}
	for name, rt := range s.runtimes {
		if d, ok := rt.(runtime.ImageDigester); ok {
			digesters[name] = d
		}
	}
	s.Images = images.New(images.Options{
		Digesters:         digesters,
		DefaultImage:      s.Config.Containers.DefaultImage,
		DefaultRuntime:    s.Config.Containers.Runtime,
		ProcessExecutable: s.agentExecutable(),
		Containers:        s.Containers.List,
	})
	i := &api.ImagesAPI{API: s.API, Images: s.Images}
	s.API.Extra = append(s.API.Extra, i.Routes()...)
	return nil
}
