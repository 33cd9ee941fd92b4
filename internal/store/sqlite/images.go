package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/dockyard/dockyard/internal/store"
)

var _ store.ImageStore = (*DB)(nil)

const imageCols = `name, ref, digest, run_ref, source, title, gpu, runtime, created_by, created, updated_by, updated, cert`

// CreateImage inserts im.
func (s *DB) CreateImage(ctx context.Context, im store.Image) error {
	_, err := s.q(ctx).ExecContext(ctx, `INSERT INTO images(`+imageCols+`) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)`,
		im.Name, im.Ref, im.Digest, im.RunRef, im.Source, im.Title, im.GPU, im.Runtime,
		im.CreatedBy, fmtTime(nowIfZero(im.Created)), im.UpdatedBy, fmtTime(nowIfZero(im.Updated)), im.Cert)
	if kind := constraint(err); kind != nil {
		return fmt.Errorf("image %q already exists: %w", im.Name, kind)
	}
	if err != nil {
		return fmt.Errorf("sqlite store: create image %q: %w", im.Name, err)
	}
	return nil
}

func scanImage(sc scanner) (store.Image, error) {
	var im store.Image
	var created, updated string
	if err := sc.Scan(&im.Name, &im.Ref, &im.Digest, &im.RunRef, &im.Source, &im.Title, &im.GPU, &im.Runtime,
		&im.CreatedBy, &created, &im.UpdatedBy, &updated, &im.Cert); err != nil {
		return im, err
	}
	return im, parseTimes(&im.Created, created, &im.Updated, updated)
}

// GetImage returns the entry called name.
func (s *DB) GetImage(ctx context.Context, name string) (store.Image, error) {
	return queryOne(ctx, s, fmt.Sprintf("image %q", name), scanImage,
		`SELECT `+imageCols+` FROM images WHERE name = ?`, name)
}

// ListImages returns every entry by name.
func (s *DB) ListImages(ctx context.Context) ([]store.Image, error) {
	return queryAll(ctx, s, "list images", scanImage, `SELECT `+imageCols+` FROM images ORDER BY name`)
}

// UpdateImage replaces the entry im.Name but its creation.
func (s *DB) UpdateImage(ctx context.Context, im store.Image) error {
	res, err := s.q(ctx).ExecContext(ctx, `UPDATE images SET ref = ?, digest = ?, run_ref = ?, source = ?, title = ?, gpu = ?, runtime = ?,
		updated_by = ?, updated = ?, cert = ? WHERE name = ?`,
		im.Ref, im.Digest, im.RunRef, im.Source, im.Title, im.GPU, im.Runtime, im.UpdatedBy, fmtTime(nowIfZero(im.Updated)), im.Cert, im.Name)
	return affected(res, err, fmt.Sprintf("image %q", im.Name))
}

// DeleteImage removes the entry called name.
func (s *DB) DeleteImage(ctx context.Context, name string) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM images WHERE name = ?`, name)
		if err := affected(res, err, fmt.Sprintf("image %q", name)); err != nil {
			return err
		}
		for _, table := range []string{"image_scans", "image_exceptions", "image_signatures"} {
			if _, err := tx.ExecContext(ctx, `DELETE FROM `+table+` WHERE image = ?`, name); err != nil {
				return fmt.Errorf("sqlite store: remove the %s of image %q: %w", strings.TrimPrefix(table, "image_"), name, err)
			}
		}
		return nil
	})
}
