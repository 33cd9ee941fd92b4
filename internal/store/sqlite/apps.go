package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/store"
)

var _ store.AppStore = (*DB)(nil)

// CreateApp inserts a.
func (s *DB) CreateApp(ctx context.Context, a store.App) error {
	now := nowIfZero(a.Created)
	_, err := s.q(ctx).ExecContext(ctx, `INSERT INTO apps(name, read_roles, write_roles, created_by, created, updated) VALUES (?,?,?,?,?,?)`,
		a.Name, encList(a.Read), encList(a.Write), a.CreatedBy, fmtTime(now), fmtTime(nowIfZero(a.Updated)))
	return inserted(err, fmt.Sprintf("app %q", a.Name))
}

func scanApp(sc scanner) (store.App, error) {
	var a store.App
	var k koText
	if err := sc.Scan(&a.Name, &k.read, &k.write, &a.CreatedBy, &k.created, &k.updated); err != nil {
		return a, err
	}
	return a, k.decode(&a.Read, &a.Write, &a.Created, &a.Updated)
}

const appCols = `name, read_roles, write_roles, created_by, created, updated`

// GetApp returns the app called name.
func (s *DB) GetApp(ctx context.Context, name string) (store.App, error) {
	return queryOne(ctx, s, fmt.Sprintf("app %q", name), scanApp, `SELECT `+appCols+` FROM apps WHERE name = ?`, name)
}

// ListApps returns every app by name.
func (s *DB) ListApps(ctx context.Context) ([]store.App, error) {
	return queryAll(ctx, s, "list apps", scanApp, `SELECT `+appCols+` FROM apps ORDER BY name`)
}

// UpdateApp changes the roles of a.Name.
func (s *DB) UpdateApp(ctx context.Context, a store.App) error {
	res, err := s.q(ctx).ExecContext(ctx, `UPDATE apps SET read_roles = ?, write_roles = ?, updated = ? WHERE name = ?`,
		encList(a.Read), encList(a.Write), fmtTime(nowIfZero(a.Updated)), a.Name)
	return affected(res, err, fmt.Sprintf("app %q", a.Name))
}

func appUsage(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, name string) (store.AppUsage, error) {
	var u store.AppUsage
	err := q.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM models WHERE app = ?), (SELECT count(*) FROM lookups WHERE app = ?),
		(SELECT count(*) FROM notebooks WHERE app = ?)`, name, name, name).Scan(&u.Models, &u.Lookups, &u.Notebooks)
	if err != nil {
		return u, fmt.Errorf("sqlite store: objects of app %q: %w", name, err)
	}
	return u, nil
}

// AppUsage counts the objects of app name.
func (s *DB) AppUsage(ctx context.Context, name string) (store.AppUsage, error) {
	return appUsage(ctx, s.db, name)
}

// DeleteApp removes an app that holds no object.
func (s *DB) DeleteApp(ctx context.Context, name string) (store.AppUsage, error) {
	var u store.AppUsage
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var err error
		if u, err = appUsage(ctx, tx, name); err != nil {
			return err
		}
		if !u.Empty() {
			return fmt.Errorf("app %q holds %d models, %d lookups, %d notebooks: %w", name, u.Models, u.Lookups, u.Notebooks, errdefs.ErrConflict)
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM apps WHERE name = ?`, name)
		return affected(res, err, fmt.Sprintf("app %q", name))
	})
	return u, err
}
