package server

import (
	"log/slog"

	"github.com/dockyard/dockyard/internal/api"
	"github.com/dockyard/dockyard/internal/audit"
	"github.com/dockyard/dockyard/internal/blob"
	"github.com/dockyard/dockyard/internal/config"
	"github.com/dockyard/dockyard/internal/models"
	"github.com/dockyard/dockyard/internal/store"
)

// newModels builds the model registry (immutable versions in the blob
// store, aliases and their history, knowledge-object permissions) and its
// routes: list, show, versions, history, aliases, rollback, share, delete,
// import and export.
func newModels(cfg config.Config, st store.ModelStore, blobs blob.Store, rec audit.Recorder, log *slog.Logger, a *api.API) (*models.Registry, []api.Route) {
	reg := models.New(st, blobs, rec, models.Options{
		KeepVersions: cfg.Models.KeepVersions,
		PageSize:     cfg.Models.PageSize,
		MaxPageSize:  cfg.Models.MaxPageSize,
	}, log.With("component", "models"))
	m := &api.ModelsAPI{API: a, Registry: reg, MaxImportBytes: cfg.Models.MaxImportBytes}
	return reg, m.Routes()
}
