package server

import (
	"context"
	"log/slog"
	"path/filepath"

	"github.com/dockyard/dockyard/internal/api"
	"github.com/dockyard/dockyard/internal/config"
	"github.com/dockyard/dockyard/internal/containers"
	"github.com/dockyard/dockyard/internal/images"
	"github.com/dockyard/dockyard/internal/runtime"
	"github.com/dockyard/dockyard/internal/secrets"
	"github.com/dockyard/dockyard/internal/store"
)

// newImages builds the image catalogue (entries pinned by digest, the
// registries with their sealed credentials, the scan gate) and its routes.
// It comes before the containers, which start only from its entries.
func newImages(ctx context.Context, cfg config.Config, st store.Store, box *secrets.Box, rts runtimes, log *slog.Logger, a *api.API) (*images.Catalogue, []api.Route) {
	engines := map[string]runtime.ImageDigester{}
	pullers := map[string]runtime.ImagePuller{}
	for name, rt := range rts.byName {
		if d, ok := rt.(runtime.ImageDigester); ok {
			engines[name] = d
		}
		if p, ok := rt.(runtime.ImagePuller); ok {
			pullers[name] = p
		}
	}
	regs := images.NewRegistries(st, box)
	cat := images.New(images.Options{
		Store:             st,
		Scans:             st,
		Settings:          st,
		Signing:           st,
		Engines:           engines,
		Registry:          images.NewRegistry(regs.Options),
		Pullers:           pullers,
		Credentials:       regs.Auth,
		DefaultImage:      cfg.Containers.DefaultImage,
		ProcessExecutable: agentExecutable(cfg),
		Containers:        st.ListContainers,
		CheckCert:         checkImageCert(rts.certs),
		Scanner:           images.Scanner{Command: cfg.Images.ScannerCommand, Timeout: cfg.Images.ScannerTimeout},
	})
	if _, err := cat.Get(ctx, cfg.Containers.DefaultImage); err != nil {
		log.Warn("containers.default_image is not in the image catalogue: starts that name no image fail until it is added", "image", cfg.Containers.DefaultImage, "err", err)
	}
	i := &api.ImagesAPI{API: a, Images: cat}
	g := &api.RegistriesAPI{API: a, Registries: regs}
	x := &api.ImageArchiveAPI{API: a, Images: cat, TempDir: filepath.Join(cfg.Data, "tmp", "images"), MaxBytes: cfg.Images.MaxArchiveBytes}
	return cat, append(append(i.Routes(), g.Routes()...), x.Routes()...)
}

// pinImage is the containers' view of the catalogue: what an entry runs.
func pinImage(cat *images.Catalogue) func(ctx context.Context, name string) (containers.PinnedImage, error) {
	return func(ctx context.Context, name string) (containers.PinnedImage, error) {
		p, err := cat.Pin(ctx, name)
		return containers.PinnedImage(p), err
	}
}
