package sqlite

import (
	"context"
	"slices"
	"strings"
	"testing"
)

// TestBlobColumnsCoverEverySchemaDigest fails when a table gains a column
// that holds digests but garbage collection does not know about it: its
// blobs would be collected while still referenced.
func TestBlobColumnsCoverEverySchemaDigest(t *testing.T) {
	db := openTemp(t)
	ctx := context.Background()
	rows, err := db.db.QueryContext(ctx, `SELECT m.name, p.name FROM sqlite_master m, pragma_table_info(m.name) p
		WHERE m.type = 'table' ORDER BY m.name, p.cid`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	known := map[string]bool{}
	for _, c := range blobColumns {
		known[c.table+"."+c.column] = true
	}
	// Columns named like digests that hold no blob digest.
	notBlobs := []string{
		"images.digest",           // an image's digest in its registry or engine, not a blob
		"image_scans.digest",      // the image digest a scan report is bound to
		"image_signatures.digest", // the image manifest digest a signature names
	}
	for rows.Next() {
		var table, col string
		if err := rows.Scan(&table, &col); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(strings.ToLower(col), "digest") || slices.Contains(notBlobs, table+"."+col) {
			continue
		}
		if !known[table+"."+col] {
			t.Errorf("column %s.%s looks like it holds blob digests but blobColumns does not list it: "+
				"garbage collection would delete the blobs it references", table, col)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
}
