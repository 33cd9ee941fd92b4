package server

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/dockyard/dockyard/internal/api"
	"github.com/dockyard/dockyard/internal/audit"
	"github.com/dockyard/dockyard/internal/config"
	"github.com/dockyard/dockyard/internal/containers"
	"github.com/dockyard/dockyard/internal/images"
	"github.com/dockyard/dockyard/internal/ml"
	"github.com/dockyard/dockyard/internal/models"
	"github.com/dockyard/dockyard/internal/notebooks"
)

// newML builds the model commands of searches (fit, apply, summary,
// listmodels, deletemodel) over the model registry, the container service
// and the notebooks. Fits and applies spool under DATA/tmp, emptied here of
// a previous run's leftovers.
func newML(cfg config.Config, reg *models.Registry, ctrs *containers.Service, nbs *notebooks.Service, imgs *images.Catalogue, rec audit.Recorder, log *slog.Logger) (*ml.Service, error) {
	tmp := filepath.Join(cfg.Data, "tmp")
	os.RemoveAll(tmp)
	if err := os.MkdirAll(tmp, 0o700); err != nil {
		return nil, fmt.Errorf("spool dir %s: %w", tmp, err)
	}
	return ml.New(ml.Options{
		Models:      reg,
		Containers:  ctrs,
		Notebooks:   nbs,
		Audit:       rec,
		Log:         log.With("component", "ml"),
		TempDir:     tmp,
		ImageDigest: imgs.Digest,
		RequestInfo: func(ctx context.Context) (string, string) {
			return "", api.RequestID(ctx)
		},
	})
}
