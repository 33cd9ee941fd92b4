package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/store"
)

var _ store.ImageScanStore = (*DB)(nil)

// AddImageScan stores a scan report.
func (s *DB) AddImageScan(ctx context.Context, sc store.ImageScan) (int64, error) {
	res, err := s.q(ctx).ExecContext(ctx, `INSERT INTO image_scans(image, digest, format, scanned, findings, imported_by, imported) VALUES (?,?,?,?,?,?,?)`,
		sc.Image, sc.Digest, sc.Format, fmtTime(nowIfZero(sc.Scanned)), sc.Findings, sc.ImportedBy, fmtTime(nowIfZero(sc.Imported)))
	if err != nil {
		return 0, fmt.Errorf("sqlite store: add scan of image %q: %w", sc.Image, err)
	}
	return res.LastInsertId()
}

// LatestImageScan returns the newest scan of image at digest.
func (s *DB) LatestImageScan(ctx context.Context, image, digest string) (store.ImageScan, error) {
	var sc store.ImageScan
	var scanned, imported string
	err := s.q(ctx).QueryRowContext(ctx, `SELECT id, image, digest, format, scanned, findings, imported_by, imported FROM image_scans
		WHERE image = ? AND digest = ? ORDER BY scanned DESC, id DESC LIMIT 1`, image, digest).
		Scan(&sc.ID, &sc.Image, &sc.Digest, &sc.Format, &scanned, &sc.Findings, &sc.ImportedBy, &imported)
	if errors.Is(err, sql.ErrNoRows) {
		return sc, fmt.Errorf("scan of image %q at %s: %w", image, digest, errdefs.ErrNotFound)
	}
	if err != nil {
		return sc, fmt.Errorf("sqlite store: scan of image %q: %w", image, err)
	}
	if sc.Scanned, err = parseTime(scanned); err != nil {
		return sc, err
	}
	sc.Imported, err = parseTime(imported)
	return sc, err
}

// PutImageException adds or replaces an exception.
func (s *DB) PutImageException(ctx context.Context, e store.ImageException) error {
	_, err := s.q(ctx).ExecContext(ctx, `INSERT INTO image_exceptions(image, cve, until, reason, created_by, created) VALUES (?,?,?,?,?,?)
		ON CONFLICT(image, cve) DO UPDATE SET until = excluded.until, reason = excluded.reason, created_by = excluded.created_by, created = excluded.created`,
		e.Image, e.CVE, fmtTime(e.Until), e.Reason, e.CreatedBy, fmtTime(nowIfZero(e.Created)))
	if err != nil {
		return fmt.Errorf("sqlite store: exception for %s of image %q: %w", e.CVE, e.Image, err)
	}
	return nil
}

func scanException(sc scanner) (store.ImageException, error) {
	var e store.ImageException
	var until, created string
	if err := sc.Scan(&e.Image, &e.CVE, &until, &e.Reason, &e.CreatedBy, &created); err != nil {
		return e, err
	}
	var err error
	if e.Until, err = parseTime(until); err != nil {
		return e, err
	}
	e.Created, err = parseTime(created)
	return e, err
}

// ListImageExceptions returns the exceptions of image by CVE.
func (s *DB) ListImageExceptions(ctx context.Context, image string) ([]store.ImageException, error) {
	return queryAll(ctx, s, "list image exceptions", scanException,
		`SELECT image, cve, until, reason, created_by, created FROM image_exceptions WHERE image = ? ORDER BY cve`, image)
}
