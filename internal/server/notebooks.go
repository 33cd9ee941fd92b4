package server

import (
	"context"

	"github.com/dockyard/dockyard/internal/api"
	"github.com/dockyard/dockyard/internal/notebooks"
)

// openNotebooks builds the notebook service and its API routes. It is
// called by openContainers, which needs it.
func (s *Server) openNotebooks(ctx context.Context) error {
	s.Notebooks = notebooks.New(s.Store, s.Blobs, s.Log.With("component", "notebooks"))
	s.Notebooks.SetRecorder(s.Audit)
	n := &api.NotebooksAPI{API: s.API, Notebooks: s.Notebooks}
	s.API.Extra = append(s.API.Extra, n.Routes()...)
	return nil
}
