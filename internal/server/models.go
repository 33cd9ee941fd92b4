package server

import (
	"fmt"
	"log/slog"
	"path/filepath"

	"github.com/dockyard/dockyard/internal/api"
	"github.com/dockyard/dockyard/internal/audit"
	"github.com/dockyard/dockyard/internal/blob"
	"github.com/dockyard/dockyard/internal/config"
	"github.com/dockyard/dockyard/internal/models"
	"github.com/dockyard/dockyard/internal/signing"
	"github.com/dockyard/dockyard/internal/store"
)

// newModels builds the model registry (immutable versions in the blob
// store, aliases and their history, knowledge-object permissions) and its
// routes: list, show, versions, history, aliases, rollback, share, delete,
// import and export.
func newModels(cfg config.Config, st store.Store, blobs blob.Store, rec audit.Recorder, log *slog.Logger, a *api.API) (*models.Registry, []api.Route, error) {
	key, err := signing.LoadOrCreateEd25519(filepath.Join(cfg.Data, BundleKeyFile))
	if err != nil {
		return nil, nil, fmt.Errorf("model bundle signing key: %w", err)
	}
	trusted := signing.NewKeys(st, store.KeyPurposeModel)
	reg := models.New(st, blobs, rec, models.Options{
		KeepVersions:      cfg.Models.KeepVersions,
		PageSize:          cfg.Models.PageSize,
		MaxPageSize:       cfg.Models.MaxPageSize,
		BundleKey:         key,
		TrustedBundleKeys: trusted.Trusted,
	}, log.With("component", "models"))
	m := &api.ModelsAPI{API: a, Registry: reg, MaxImportBytes: cfg.Models.MaxImportBytes}
	k := &api.ModelKeysAPI{API: a, Registry: reg, Keys: trusted}
	return reg, append(m.Routes(), k.Routes()...), nil
}

// BundleKeyFile is the Ed25519 key (PKCS #8 PEM, owner-only) under the
// data dir that signs model exports; backups carry it with the other keys.
const BundleKeyFile = "model-signing.key"
