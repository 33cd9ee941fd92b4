package server

import (
	"context"

	"github.com/dockyard/dockyard/internal/api"
	"github.com/dockyard/dockyard/internal/containers"
	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/images"
	"github.com/dockyard/dockyard/internal/runtime"
)

// openImages builds the image catalogue and its routes.
func (s *Server) openImages(ctx context.Context) error {
	engines := map[string]runtime.ImageDigester{}
	for name, rt := range s.runtimes {
		if d, ok := rt.(runtime.ImageDigester); ok {
			engines[name] = d
		}
	}
	pullers := map[string]runtime.ImagePuller{}
	for name, rt := range s.runtimes {
		if p, ok := rt.(runtime.ImagePuller); ok {
			pullers[name] = p
		}
	}
	regs := images.NewRegistries(s.Store, s.Secrets)
	s.Images = images.New(images.Options{
		Store:             s.Store,
		Scans:             s.Store,
		Settings:          s.Store,
		Engines:           engines,
		Registry:          images.NewRegistry(regs.Options),
		Pullers:           pullers,
		Credentials:       regs.Auth,
		DefaultImage:      s.Config.Containers.DefaultImage,
		ProcessExecutable: s.agentExecutable(),
		Containers:        s.Containers.List,
	})
	if _, err := s.Images.Get(ctx, s.Config.Containers.DefaultImage); err != nil {
		s.Log.Warn("containers.default_image is not in the image catalogue: starts that name no image fail until it is added", "image", s.Config.Containers.DefaultImage, "err", err)
	}
	i := &api.ImagesAPI{API: s.API, Images: s.Images}
	g := &api.RegistriesAPI{API: s.API, Registries: regs}
	s.API.Extra = append(s.API.Extra, i.Routes()...)
	s.API.Extra = append(s.API.Extra, g.Routes()...)
	return nil
}

// pinImage is the containers' view of the catalogue: what an entry runs.
func (s *Server) pinImage(ctx context.Context, name string) (containers.PinnedImage, error) {
	if s.Images == nil {
		return containers.PinnedImage{}, errdefs.Unavailable("the image catalogue is not open yet")
	}
	p, err := s.Images.Pin(ctx, name)
	return containers.PinnedImage(p), err
}
