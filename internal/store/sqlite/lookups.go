package sqlite

import (
	"context"
	"fmt"

	"github.com/dockyard/dockyard/internal/store"
)

var _ store.LookupStore = (*DB)(nil)

const lookupCols = `id, name, app, owner, sharing, read_roles, write_roles, digest, size, created, updated`

func scanLookup(sc scanner) (store.Lookup, error) {
	var l store.Lookup
	var k koText
	if err := sc.Scan(&l.ID, &l.Name, &l.App, &l.Owner, &l.Sharing, &k.read, &k.write, &l.Digest, &l.Size,
		&k.created, &k.updated); err != nil {
		return l, err
	}
	return l, k.decode(&l.Read, &l.Write, &l.Created, &l.Updated)
}

func lookupScope(l store.Lookup) string { return ownerScope(l.Sharing, l.Owner) }

// CreateLookup inserts a lookup.
func (s *DB) CreateLookup(ctx context.Context, l store.Lookup) (store.Lookup, error) {
	l.Created = nowIfZero(l.Created)
	if l.Updated.IsZero() {
		l.Updated = l.Created
	}
	err := s.q(ctx).QueryRowContext(ctx, `INSERT INTO lookups(name, app, owner, sharing, scope_owner, read_roles,
		write_roles, digest, size, created, updated) VALUES (?,?,?,?,?,?,?,?,?,?,?) RETURNING id`,
		l.Name, l.App, l.Owner, l.Sharing, lookupScope(l), encList(l.Read), encList(l.Write), l.Digest, l.Size,
		fmtTime(l.Created), fmtTime(l.Updated)).Scan(&l.ID)
	if err != nil {
		if kind := constraint(err); kind != nil {
			return store.Lookup{}, fmt.Errorf("lookup %q in app %q exists: %w", l.Name, l.App, kind)
		}
		return store.Lookup{}, fmt.Errorf("sqlite store: create lookup %q: %w", l.Name, err)
	}
	return l, nil
}

// GetLookup returns the lookup with id.
func (s *DB) GetLookup(ctx context.Context, id int64) (store.Lookup, error) {
	return queryOne(ctx, s, fmt.Sprintf("lookup %d", id), scanLookup, `SELECT `+lookupCols+` FROM lookups WHERE id = ?`, id)
}

// FindLookups returns every lookup called name.
func (s *DB) FindLookups(ctx context.Context, name string) ([]store.Lookup, error) {
	return s.queryLookups(ctx, `SELECT `+lookupCols+` FROM lookups WHERE name = ? ORDER BY app, owner, id`, name)
}

// ListLookups returns the lookups of app, or of every app when app is "".
func (s *DB) ListLookups(ctx context.Context, app string) ([]store.Lookup, error) {
	if app == "" {
		return s.queryLookups(ctx, `SELECT `+lookupCols+` FROM lookups ORDER BY app, name, id`)
	}
	return s.queryLookups(ctx, `SELECT `+lookupCols+` FROM lookups WHERE app = ? ORDER BY app, name, id`, app)
}

func (s *DB) queryLookups(ctx context.Context, q string, args ...any) ([]store.Lookup, error) {
	return queryAll(ctx, s, "lookups", scanLookup, q, args...)
}

// UpdateLookup changes a lookup's content, sharing and roles.
func (s *DB) UpdateLookup(ctx context.Context, l store.Lookup) error {
	l.Updated = nowIfZero(l.Updated)
	res, err := s.q(ctx).ExecContext(ctx, `UPDATE lookups SET sharing = ?, scope_owner = ?, read_roles = ?, write_roles = ?,
		digest = ?, size = ?, updated = ? WHERE id = ?`,
		l.Sharing, lookupScope(l), encList(l.Read), encList(l.Write), l.Digest, l.Size, fmtTime(l.Updated), l.ID)
	if kind := constraint(err); kind != nil {
		return fmt.Errorf("lookup %q in app %q exists: %w", l.Name, l.App, kind)
	}
	return affected(res, err, fmt.Sprintf("lookup %d", l.ID))
}

// DeleteLookup removes a lookup.
func (s *DB) DeleteLookup(ctx context.Context, id int64) error {
	res, err := s.q(ctx).ExecContext(ctx, `DELETE FROM lookups WHERE id = ?`, id)
	return affected(res, err, fmt.Sprintf("lookup %d", id))
}
