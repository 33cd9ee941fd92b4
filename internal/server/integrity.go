package server

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/dockyard/dockyard/internal/store/sqlite"
)

// DBFile is the database's file name in the data dir.
const DBFile = "dockyard.db"

// openStore checks the database's integrity (SQLite quick_check) and opens
// it. A damaged database stops the start with an error that says how to
// restore, unless storage.skip_integrity_check is set.
func (s *Server) openStore(ctx context.Context) error {
	path := filepath.Join(s.Config.Data, DBFile)
	if s.Config.Storage.SkipIntegrityCheck {
		s.Log.Warn("the database's integrity check is skipped (storage.skip_integrity_check): a damaged database can lose or corrupt more data")
	} else if err := sqlite.Check(ctx, path); err != nil {
		if sqlite.IsCorrupt(err) {
			return damaged(err)
		}
		return err
	}
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		if sqlite.IsCorrupt(err) {
			return damaged(err)
		}
		return err
	}
	s.Store = db
	s.closers = append(s.closers, s.Store.Close)
	return nil
}

// damaged is the refusal to start on a damaged database.
func damaged(err error) error {
	return fmt.Errorf("%w\nThe server will not start on a damaged database. Stop anything using the data directory, "+
		"then restore the latest backup into a new directory with `dockyard admin restore --file BACKUP --data NEWDIR` "+
		"and start the server with --data NEWDIR (see docs/operations.md). Starting anyway with "+
		"--dangerously-skip-integrity-check risks losing or corrupting more data",
		err)
}
