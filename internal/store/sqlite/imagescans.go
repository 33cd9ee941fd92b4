package sqlite

import (
	"context"
	"fmt"

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

func scanImageScan(sc scanner) (store.ImageScan, error) {
	var is store.ImageScan
	var scanned, imported string
	if err := sc.Scan(&is.ID, &is.Image, &is.Digest, &is.Format, &scanned, &is.Findings, &is.ImportedBy, &imported); err != nil {
		return is, err
	}
	return is, parseTimes(&is.Scanned, scanned, &is.Imported, imported)
}

// LatestImageScan returns the newest scan of image at digest.
func (s *DB) LatestImageScan(ctx context.Context, image, digest string) (store.ImageScan, error) {
	return queryOne(ctx, s, fmt.Sprintf("scan of image %q at %s", image, digest), scanImageScan,
		`SELECT id, image, digest, format, scanned, findings, imported_by, imported FROM image_scans
		WHERE image = ? AND digest = ? ORDER BY scanned DESC, id DESC LIMIT 1`, image, digest)
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
	return e, parseTimes(&e.Until, until, &e.Created, created)
}

// DeleteImageException removes the exception for (image, cve).
func (s *DB) DeleteImageException(ctx context.Context, image, cve string) error {
	res, err := s.q(ctx).ExecContext(ctx, `DELETE FROM image_exceptions WHERE image = ? AND cve = ?`, image, cve)
	return affected(res, err, fmt.Sprintf("exception for %s of image %q", cve, image))
}

// ListImageExceptions returns the exceptions of image by CVE.
func (s *DB) ListImageExceptions(ctx context.Context, image string) ([]store.ImageException, error) {
	return queryAll(ctx, s, "list image exceptions", scanException,
		`SELECT image, cve, until, reason, created_by, created FROM image_exceptions WHERE image = ? ORDER BY cve`, image)
}
