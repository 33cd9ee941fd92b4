package sqlite

import (
	"context"
	"fmt"

	"github.com/dockyard/dockyard/internal/store"
)

var _ store.SigningStore = (*DB)(nil)

// CreateSigningKey inserts k.
func (s *DB) CreateSigningKey(ctx context.Context, k store.SigningKey) error {
	_, err := s.q(ctx).ExecContext(ctx, `INSERT INTO signing_keys(purpose, name, pem, fingerprint, created_by, created) VALUES (?,?,?,?,?,?)`,
		k.Purpose, k.Name, k.PEM, k.Fingerprint, k.CreatedBy, fmtTime(nowIfZero(k.Created)))
	if kind := constraint(err); kind != nil {
		return fmt.Errorf("%s key %q already exists: %w", k.Purpose, k.Name, kind)
	}
	if err != nil {
		return fmt.Errorf("sqlite store: create %s key %q: %w", k.Purpose, k.Name, err)
	}
	return nil
}

func scanSigningKey(sc scanner) (store.SigningKey, error) {
	var k store.SigningKey
	var created string
	if err := sc.Scan(&k.Purpose, &k.Name, &k.PEM, &k.Fingerprint, &k.CreatedBy, &created); err != nil {
		return k, err
	}
	return k, parseTimes(&k.Created, created)
}

// ListSigningKeys returns the keys of purpose by name.
func (s *DB) ListSigningKeys(ctx context.Context, purpose string) ([]store.SigningKey, error) {
	return queryAll(ctx, s, "list signing keys", scanSigningKey,
		`SELECT purpose, name, pem, fingerprint, created_by, created FROM signing_keys WHERE purpose = ? ORDER BY name`, purpose)
}

// DeleteSigningKey removes a key.
func (s *DB) DeleteSigningKey(ctx context.Context, purpose, name string) error {
	res, err := s.q(ctx).ExecContext(ctx, `DELETE FROM signing_keys WHERE purpose = ? AND name = ?`, purpose, name)
	return affected(res, err, fmt.Sprintf("%s key %q", purpose, name))
}

// AddImageSignature stores a signature once.
func (s *DB) AddImageSignature(ctx context.Context, sg store.ImageSignature) error {
	_, err := s.q(ctx).ExecContext(ctx, `INSERT INTO image_signatures(image, digest, payload, signature, manifest, source, added_by, added) VALUES (?,?,?,?,?,?,?,?)
		ON CONFLICT(image, digest, signature) DO NOTHING`,
		sg.Image, sg.Digest, sg.Payload, sg.Signature, sg.Manifest, sg.Source, sg.AddedBy, fmtTime(nowIfZero(sg.Added)))
	if err != nil {
		return fmt.Errorf("sqlite store: add signature of image %q: %w", sg.Image, err)
	}
	return nil
}

func scanImageSignature(sc scanner) (store.ImageSignature, error) {
	var sg store.ImageSignature
	var added string
	if err := sc.Scan(&sg.ID, &sg.Image, &sg.Digest, &sg.Payload, &sg.Signature, &sg.Manifest, &sg.Source, &sg.AddedBy, &added); err != nil {
		return sg, err
	}
	return sg, parseTimes(&sg.Added, added)
}

// ListImageSignatures returns the signatures of image (of digest, unless
// it is ""), oldest first.
func (s *DB) ListImageSignatures(ctx context.Context, image, digest string) ([]store.ImageSignature, error) {
	return queryAll(ctx, s, "list image signatures", scanImageSignature,
		`SELECT id, image, digest, payload, signature, manifest, source, added_by, added FROM image_signatures
		WHERE image = ? AND (? = '' OR digest = ?) ORDER BY id`, image, digest, digest)
}
