package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/dockyard/dockyard/internal/store"
)

var _ store.BlobRefStore = (*DB)(nil)

// blobColumns are the columns that hold blob digests. Garbage collection
// keeps exactly what they reference (and what the manifests among them
// list), so a table that stores a digest must be named here: a test fails
// on any column named like a digest that is missing.
var blobColumns = []struct {
	table, column string
	manifest      bool // the blob lists further blobs
}{
	{"model_versions", "digest", true},
	{"notebook_versions", "digest", false},
	{"lookups", "digest", false},
}

// BlobReferences returns every digest the database references, read in one
// transaction so that the answer is a consistent snapshot.
func (s *DB) BlobReferences(ctx context.Context) (store.BlobRefs, error) {
	var refs store.BlobRefs
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return refs, fmt.Errorf("sqlite store: blob references: %w", err)
	}
	defer tx.Rollback()
	for _, c := range blobColumns {
		rows, err := tx.QueryContext(ctx, fmt.Sprintf(`SELECT DISTINCT %s FROM %s`, c.column, c.table))
		if err != nil {
			return refs, fmt.Errorf("sqlite store: blob references in %s.%s: %w", c.table, c.column, err)
		}
		for rows.Next() {
			var d string
			if err := rows.Scan(&d); err != nil {
				rows.Close()
				return refs, fmt.Errorf("sqlite store: blob references in %s: %w", c.table, err)
			}
			if c.manifest {
				refs.Manifests = append(refs.Manifests, d)
			} else {
				refs.Direct = append(refs.Direct, d)
			}
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return refs, fmt.Errorf("sqlite store: blob references in %s: %w", c.table, err)
		}
	}
	return refs, nil
}
