package server

import (
	"context"

	"github.com/dockyard/dockyard/internal/models"
)

// openModels builds the model registry: immutable versions in the blob
// store, aliases and their history, knowledge-object permissions.
func (s *Server) openModels(ctx context.Context) error {
	s.Models = models.New(s.Store, s.Blobs, s.Audit, models.Options{
		KeepVersions: s.Config.Models.KeepVersions,
		PageSize:     s.Config.Models.PageSize,
		MaxPageSize:  s.Config.Models.MaxPageSize,
	}, s.Log.With("component", "models"))
	return nil
}
