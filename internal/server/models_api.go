package server

import (
	"context"

	"github.com/dockyard/dockyard/internal/api"
)

// openModelsAPI mounts the model registry's routes (list, show, versions,
// history, aliases, rollback, share, delete, import and export). It runs
// after openModels.
func (s *Server) openModelsAPI(ctx context.Context) error {
	m := &api.ModelsAPI{API: s.API, Registry: s.Models, MaxImportBytes: s.Config.Models.MaxImportBytes}
	s.API.Extra = append(s.API.Extra, m.Routes()...)
	return nil
}
