package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	iofs "io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/dockyard/dockyard/internal/store"
)

// SQLite's primary result codes for a damaged file.
const (
	codeCorrupt = 11 // SQLITE_CORRUPT: database disk image is malformed
	codeNotADB  = 26 // SQLITE_NOTADB: file is not a database
)

// IsCorrupt reports whether err says the database file is damaged.
func IsCorrupt(err error) bool {
	var coded interface{ Code() int }
	if errors.As(err, &coded) {
		c := coded.Code() & 0xff
		return c == codeCorrupt || c == codeNotADB
	}
	var ce *CorruptError
	return errors.As(err, &ce)
}

// CorruptError is a failed integrity check: Problems are SQLite's first
// findings.
type CorruptError struct {
	Path     string
	Problems []string
}

func (e *CorruptError) Error() string {
	return fmt.Sprintf("database %s failed its integrity check: %s", e.Path, strings.Join(e.Problems, "; "))
}

// maxProblems bounds how many findings a failed check reports.
const maxProblems = 5

// Check runs SQLite's quick_check on the database file at path before it
// is opened for use: no migration runs (a crashed writer's journal is
// recovered, as on any open). A missing file passes: a new store is
// created on first Open. A damaged one gives a *CorruptError, or an error
// for which IsCorrupt is true.
func Check(ctx context.Context, path string) error {
	if _, err := os.Stat(path); errors.Is(err, iofs.ErrNotExist) {
		return nil
	}
	db, err := sql.Open("sqlite", "file:"+filepath.ToSlash(path)+"?_pragma=busy_timeout(10000)")
	if err != nil {
		return fmt.Errorf("sqlite store %s: %w", path, err)
	}
	defer db.Close()
	return quickCheck(ctx, db, path)
}

// QuickCheck runs SQLite's quick_check on the open database.
func (s *DB) QuickCheck(ctx context.Context, path string) error { return quickCheck(ctx, s.db, path) }

func quickCheck(ctx context.Context, db *sql.DB, path string) error {
	rows, err := db.QueryContext(ctx, fmt.Sprintf(`PRAGMA quick_check(%d)`, maxProblems))
	if err != nil {
		return fmt.Errorf("sqlite store %s: integrity check: %w", path, err)
	}
	defer rows.Close()
	var problems []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			return fmt.Errorf("sqlite store %s: integrity check: %w", path, err)
		}
		if line != "ok" {
			problems = append(problems, line)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("sqlite store %s: integrity check: %w", path, err)
	}
	if len(problems) > 0 {
		return &CorruptError{Path: path, Problems: problems}
	}
	return nil
}

// Snapshot writes a consistent copy of the database to dst (which must
// not exist) while it stays in use: VACUUM INTO reads one transaction's
// view, so writes made meanwhile are either wholly in the copy or not.
func (s *DB) Snapshot(ctx context.Context, dst string) error {
	if _, err := s.db.ExecContext(ctx, `VACUUM INTO ?`, dst); err != nil {
		return fmt.Errorf("sqlite store: snapshot to %s: %w", dst, err)
	}
	return nil
}

// Files opens and checks SQLite database files as store.Store: the
// implementation of store.Files for the server and for backups.
var Files store.Files = files{}

type files struct{}

func (files) Check(ctx context.Context, path string) error { return Check(ctx, path) }
func (files) IsCorrupt(err error) bool                     { return IsCorrupt(err) }
func (files) Open(ctx context.Context, path string) (store.Store, error) {
	db, err := Open(ctx, path)
	if err != nil {
		return nil, err
	}
	return db, nil
}
