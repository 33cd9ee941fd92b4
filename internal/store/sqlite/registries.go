package sqlite

import (
	"context"
	"fmt"

	"github.com/dockyard/dockyard/internal/store"
)

var _ store.RegistryStore = (*DB)(nil)

const registryCols = `host, ca_pem, username, password_sealed, created_by, created, updated_by, updated`

// CreateRegistry inserts r.
func (s *DB) CreateRegistry(ctx context.Context, r store.Registry) error {
	_, err := s.q(ctx).ExecContext(ctx, `INSERT INTO registries(`+registryCols+`) VALUES (?,?,?,?,?,?,?,?)`,
		r.Host, r.CAPEM, r.Username, r.PasswordSealed, r.CreatedBy, fmtTime(nowIfZero(r.Created)), r.UpdatedBy, fmtTime(nowIfZero(r.Updated)))
	if kind := constraint(err); kind != nil {
		return fmt.Errorf("registry %q already exists: %w", r.Host, kind)
	}
	if err != nil {
		return fmt.Errorf("sqlite store: create registry %q: %w", r.Host, err)
	}
	return nil
}

func scanRegistry(sc scanner) (store.Registry, error) {
	var r store.Registry
	var created, updated string
	if err := sc.Scan(&r.Host, &r.CAPEM, &r.Username, &r.PasswordSealed, &r.CreatedBy, &created, &r.UpdatedBy, &updated); err != nil {
		return r, err
	}
	return r, parseTimes(&r.Created, created, &r.Updated, updated)
}

// GetRegistry returns the registry of host.
func (s *DB) GetRegistry(ctx context.Context, host string) (store.Registry, error) {
	return queryOne(ctx, s, fmt.Sprintf("registry %q", host), scanRegistry,
		`SELECT `+registryCols+` FROM registries WHERE host = ?`, host)
}

// ListRegistries returns every registry by host.
func (s *DB) ListRegistries(ctx context.Context) ([]store.Registry, error) {
	return queryAll(ctx, s, "list registries", scanRegistry, `SELECT `+registryCols+` FROM registries ORDER BY host`)
}

// UpdateRegistry replaces r.Host but its creation.
func (s *DB) UpdateRegistry(ctx context.Context, r store.Registry) error {
	res, err := s.q(ctx).ExecContext(ctx, `UPDATE registries SET ca_pem = ?, username = ?, password_sealed = ?, updated_by = ?, updated = ? WHERE host = ?`,
		r.CAPEM, r.Username, r.PasswordSealed, r.UpdatedBy, fmtTime(nowIfZero(r.Updated)), r.Host)
	return affected(res, err, fmt.Sprintf("registry %q", r.Host))
}

// DeleteRegistry removes the registry of host.
func (s *DB) DeleteRegistry(ctx context.Context, host string) error {
	res, err := s.q(ctx).ExecContext(ctx, `DELETE FROM registries WHERE host = ?`, host)
	return affected(res, err, fmt.Sprintf("registry %q", host))
}
