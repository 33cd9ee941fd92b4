package server

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/dockyard/dockyard/internal/api"
	"github.com/dockyard/dockyard/internal/ml"
)

// openML builds the model commands of searches (fit, apply, summary,
// listmodels, deletemodel) over the model registry and the container
// service, and hands them to the search API through s.SearchML. It runs
// after openModels and openContainers.
func (s *Server) openML(_ context.Context) error {
	// Spool files of fits and applies; a previous run's leftovers go.
	tmp := filepath.Join(s.Config.Data, "tmp")
	os.RemoveAll(tmp)
	if err := os.MkdirAll(tmp, 0o700); err != nil {
		return fmt.Errorf("spool dir %s: %w", tmp, err)
	}
	svc, err := ml.New(ml.Options{
		Models:      s.Models,
		Containers:  s.Containers,
		Notebooks:   s.Notebooks,
		Audit:       s.Audit,
		Log:         s.Log.With("component", "ml"),
		TempDir:     tmp,
		ImageDigest: s.Images.Digest,
		RequestInfo: func(ctx context.Context) (string, string) {
			return "", api.RequestID(ctx)
		},
	})
	if err != nil {
		return err
	}
	s.SearchML = svc
	return nil
}
