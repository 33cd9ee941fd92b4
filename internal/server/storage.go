package server

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"

	"github.com/dockyard/dockyard/internal/config"
	"github.com/dockyard/dockyard/internal/maintenance"
	"github.com/dockyard/dockyard/internal/store"
	"github.com/dockyard/dockyard/internal/store/sqlite"
)

// DBFile is the database's file name in the data dir.
const DBFile = "dockyard.db"

// storeFiles is the metadata store's implementation: the one place in the
// server that names it. Only SQLite exists; a second implementation would
// be chosen here from the configuration.
func storeFiles(config.Config) store.Files { return sqlite.Files }

// openStore checks the database's integrity (SQLite: quick_check) and
// opens it. A damaged database stops the start with an error that says how
// to restore, unless storage.skip_integrity_check is set.
func openStore(ctx context.Context, cfg config.Config, log *slog.Logger) (store.Store, error) {
	files := storeFiles(cfg)
	path := filepath.Join(cfg.Data, DBFile)
	if cfg.Storage.SkipIntegrityCheck {
		log.Warn("the database's integrity check is skipped (storage.skip_integrity_check): a damaged database can lose or corrupt more data")
	} else if err := files.Check(ctx, path); err != nil {
		if files.IsCorrupt(err) {
			return nil, damaged(err)
		}
		return nil, err
	}
	st, err := files.Open(ctx, path)
	if err != nil {
		if files.IsCorrupt(err) {
			return nil, damaged(err)
		}
		return nil, err
	}
	return st, nil
}

// damaged is the refusal to start on a damaged database.
func damaged(err error) error {
	return fmt.Errorf("%w\nThe server will not start on a damaged database. Stop anything using the data directory, "+
		"then restore the latest backup into a new directory with `dockyard admin restore --file BACKUP --data NEWDIR` "+
		"and start the server with --data NEWDIR (see docs/operations.md). Starting anyway with "+
		"--dangerously-skip-integrity-check risks losing or corrupting more data",
		err)
}

// Restore unpacks the backup archive r into dataDir, offline, with the
// configured store implementation reading its database
// (maintenance.Restore says what is checked and when dataDir is replaced).
func Restore(ctx context.Context, cfg config.Config, r io.Reader, dataDir string, force bool) (maintenance.RestoreResult, error) {
	return maintenance.Restore(ctx, storeFiles(cfg), r, dataDir, force)
}
