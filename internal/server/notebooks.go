package server

import (
	"log/slog"

	"github.com/dockyard/dockyard/internal/api"
	"github.com/dockyard/dockyard/internal/audit"
	"github.com/dockyard/dockyard/internal/blob"
	"github.com/dockyard/dockyard/internal/notebooks"
	"github.com/dockyard/dockyard/internal/store"
)

// newNotebooks builds the notebook service and its routes.
func newNotebooks(st store.NotebookStore, blobs blob.Store, rec audit.Recorder, log *slog.Logger, a *api.API) (*notebooks.Service, []api.Route) {
	nbs := notebooks.New(st, blobs, log.With("component", "notebooks"))
	nbs.SetRecorder(rec)
	n := &api.NotebooksAPI{API: a, Notebooks: nbs}
	return nbs, n.Routes()
}
