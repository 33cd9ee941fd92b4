package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	msqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/store"
)

// timeLayout is RFC 3339 in UTC with a fixed nine-digit fraction, so that
// stored timestamps sort and compare correctly as text.
const timeLayout = "2006-01-02T15:04:05.000000000Z07:00"

// fmtTime formats t for storage; the zero time is stored as "".
func fmtTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(timeLayout)
}

// parseTime reads a stored timestamp; "" is the zero time.
func parseTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("sqlite store: bad timestamp %q: %w", s, err)
	}
	return t.UTC(), nil
}

// nowIfZero returns t, or the current time when t is zero.
func nowIfZero(t time.Time) time.Time {
	if t.IsZero() {
		return time.Now().UTC()
	}
	return t
}

func encList(l []string) string {
	if l == nil {
		l = []string{}
	}
	b, _ := json.Marshal(l)
	return string(b)
}

func decList(s string) ([]string, error) {
	var l []string
	if err := json.Unmarshal([]byte(s), &l); err != nil {
		return nil, fmt.Errorf("sqlite store: bad list %q: %w", s, err)
	}
	if l == nil {
		l = []string{}
	}
	return l, nil
}

// constraint classifies a constraint violation: errdefs.ErrConflict for a
// duplicate key, errdefs.ErrNotFound for a missing referenced row, nil for
// anything else.
func constraint(err error) error {
	var se *msqlite.Error
	if !errors.As(err, &se) {
		return nil
	}
	switch se.Code() {
	case sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY, sqlite3.SQLITE_CONSTRAINT_UNIQUE:
		return errdefs.ErrConflict
	case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
		return errdefs.ErrNotFound
	}
	return nil
}

// affected turns "no row changed" into an ErrNotFound for what.
func affected(res sql.Result, err error, what string) error {
	if err != nil {
		return fmt.Errorf("sqlite store: %s: %w", what, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("sqlite store: %s: %w", what, err)
	}
	if n == 0 {
		return fmt.Errorf("%s: %w", what, errdefs.ErrNotFound)
	}
	return nil
}

// scanner is a *sql.Row or *sql.Rows.
type scanner interface{ Scan(dest ...any) error }

// --- users ---

const userCols = `name, password_hash, roles, default_app, created, updated`

func scanUser(sc scanner) (store.User, error) {
	var u store.User
	var roles, created, updated string
	if err := sc.Scan(&u.Name, &u.PasswordHash, &roles, &u.DefaultApp, &created, &updated); err != nil {
		return u, err
	}
	var err error
	if u.Roles, err = decList(roles); err != nil {
		return u, err
	}
	if u.Created, err = parseTime(created); err != nil {
		return u, err
	}
	u.Updated, err = parseTime(updated)
	return u, err
}

// CreateUser adds u; ErrConflict if the name exists.
func (s *DB) CreateUser(ctx context.Context, u store.User) error {
	created := nowIfZero(u.Created)
	updated := u.Updated
	if updated.IsZero() {
		updated = created
	}
	_, err := s.q(ctx).ExecContext(ctx, `INSERT INTO users(`+userCols+`) VALUES (?, ?, ?, ?, ?, ?)`,
		u.Name, u.PasswordHash, encList(u.Roles), u.DefaultApp, fmtTime(created), fmtTime(updated))
	return inserted(err, fmt.Sprintf("user %q", u.Name))
}

// GetUser returns the user called name, or ErrNotFound.
func (s *DB) GetUser(ctx context.Context, name string) (store.User, error) {
	return queryOne(ctx, s, fmt.Sprintf("user %q", name), scanUser, `SELECT `+userCols+` FROM users WHERE name = ?`, name)
}

// UpdateUser replaces the password hash, roles and default app of u.Name
// (Created is kept); ErrNotFound if absent.
func (s *DB) UpdateUser(ctx context.Context, u store.User) error {
	res, err := s.q(ctx).ExecContext(ctx, `UPDATE users SET password_hash = ?, roles = ?, default_app = ?, updated = ? WHERE name = ?`,
		u.PasswordHash, encList(u.Roles), u.DefaultApp, fmtTime(nowIfZero(u.Updated)), u.Name)
	return affected(res, err, fmt.Sprintf("user %q", u.Name))
}

// DeleteUser removes the user and, by cascade, their tokens.
func (s *DB) DeleteUser(ctx context.Context, name string) error {
	res, err := s.q(ctx).ExecContext(ctx, `DELETE FROM users WHERE name = ?`, name)
	return affected(res, err, fmt.Sprintf("user %q", name))
}

// ListUsers returns every user sorted by name.
func (s *DB) ListUsers(ctx context.Context) ([]store.User, error) {
	return queryAll(ctx, s, "list users", scanUser, `SELECT `+userCols+` FROM users ORDER BY name`)
}

// --- roles ---

const roleCols = `name, capabilities, inherit, search_indexes, builtin, created`

func scanRole(sc scanner) (store.Role, error) {
	var r store.Role
	var caps, inherit, indexes, created string
	if err := sc.Scan(&r.Name, &caps, &inherit, &indexes, &r.Builtin, &created); err != nil {
		return r, err
	}
	var err error
	if r.Capabilities, err = decList(caps); err != nil {
		return r, err
	}
	if r.Inherit, err = decList(inherit); err != nil {
		return r, err
	}
	if r.SearchIndexes, err = decList(indexes); err != nil {
		return r, err
	}
	r.Created, err = parseTime(created)
	return r, err
}

// CreateRole adds r; ErrConflict if the name exists.
func (s *DB) CreateRole(ctx context.Context, r store.Role) error {
	_, err := s.q(ctx).ExecContext(ctx, `INSERT INTO roles(`+roleCols+`) VALUES (?, ?, ?, ?, ?, ?)`,
		r.Name, encList(r.Capabilities), encList(r.Inherit), encList(r.SearchIndexes), r.Builtin, fmtTime(nowIfZero(r.Created)))
	return inserted(err, fmt.Sprintf("role %q", r.Name))
}

// GetRole returns the role called name, or ErrNotFound.
func (s *DB) GetRole(ctx context.Context, name string) (store.Role, error) {
	return queryOne(ctx, s, fmt.Sprintf("role %q", name), scanRole, `SELECT `+roleCols+` FROM roles WHERE name = ?`, name)
}

// UpdateRole replaces the capabilities, inherit list, search indexes and
// builtin flag of r.Name (Created is kept); ErrNotFound if absent.
func (s *DB) UpdateRole(ctx context.Context, r store.Role) error {
	res, err := s.q(ctx).ExecContext(ctx, `UPDATE roles SET capabilities = ?, inherit = ?, search_indexes = ?, builtin = ? WHERE name = ?`,
		encList(r.Capabilities), encList(r.Inherit), encList(r.SearchIndexes), r.Builtin, r.Name)
	return affected(res, err, fmt.Sprintf("role %q", r.Name))
}

// DeleteRole removes the role called name; ErrNotFound if absent.
func (s *DB) DeleteRole(ctx context.Context, name string) error {
	res, err := s.q(ctx).ExecContext(ctx, `DELETE FROM roles WHERE name = ?`, name)
	return affected(res, err, fmt.Sprintf("role %q", name))
}

// ListRoles returns every role sorted by name.
func (s *DB) ListRoles(ctx context.Context) ([]store.Role, error) {
	return queryAll(ctx, s, "list roles", scanRole, `SELECT `+roleCols+` FROM roles ORDER BY name`)
}

// --- tokens ---

const tokenCols = `id, kind, name, user_name, hash, created, expires, last_used, revoked`

func scanToken(sc scanner) (store.Token, error) {
	var t store.Token
	var created, expires, lastUsed string
	if err := sc.Scan(&t.ID, &t.Kind, &t.Name, &t.User, &t.Hash, &created, &expires, &lastUsed, &t.Revoked); err != nil {
		return t, err
	}
	var err error
	if t.Created, err = parseTime(created); err != nil {
		return t, err
	}
	if t.Expires, err = parseTime(expires); err != nil {
		return t, err
	}
	t.LastUsed, err = parseTime(lastUsed)
	return t, err
}

// CreateToken stores t. ErrConflict if its ID or hash exists, ErrNotFound
// if its user does not.
func (s *DB) CreateToken(ctx context.Context, t store.Token) error {
	_, err := s.q(ctx).ExecContext(ctx, `INSERT INTO tokens(`+tokenCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		t.ID, t.Kind, t.Name, t.User, t.Hash, fmtTime(nowIfZero(t.Created)), fmtTime(t.Expires), fmtTime(t.LastUsed), t.Revoked)
	switch kind := constraint(err); kind {
	case nil:
	case errdefs.ErrNotFound:
		return fmt.Errorf("token %q: user %q: %w", t.ID, t.User, kind)
	default:
		return fmt.Errorf("token %q already exists: %w", t.ID, kind)
	}
	if err != nil {
		return fmt.Errorf("sqlite store: create token %q: %w", t.ID, err)
	}
	return nil
}

func (s *DB) getToken(ctx context.Context, col, val, what string) (store.Token, error) {
	return queryOne(ctx, s, what, scanToken, `SELECT `+tokenCols+` FROM tokens WHERE `+col+` = ?`, val)
}

// GetTokenByHash returns the token whose hash is hash (revoked and expired
// ones included), or ErrNotFound.
func (s *DB) GetTokenByHash(ctx context.Context, hash string) (store.Token, error) {
	return s.getToken(ctx, "hash", hash, "token")
}

// GetToken returns the token with public id id, or ErrNotFound.
func (s *DB) GetToken(ctx context.Context, id string) (store.Token, error) {
	return s.getToken(ctx, "id", id, fmt.Sprintf("token %q", id))
}

// ListTokens returns the tokens of user ("" for everybody's), oldest first.
func (s *DB) ListTokens(ctx context.Context, user string) ([]store.Token, error) {
	q := `SELECT ` + tokenCols + ` FROM tokens`
	var args []any
	if user != "" {
		q += ` WHERE user_name = ?`
		args = append(args, user)
	}
	return queryAll(ctx, s, "list tokens", scanToken, q+` ORDER BY created, id`, args...)
}

// RevokeToken marks the token revoked; ErrNotFound if absent. Revoking a
// revoked token is not an error.
func (s *DB) RevokeToken(ctx context.Context, id string) error {
	res, err := s.q(ctx).ExecContext(ctx, `UPDATE tokens SET revoked = 1 WHERE id = ?`, id)
	return affected(res, err, fmt.Sprintf("token %q", id))
}

// TouchToken records that the token was used at at.
func (s *DB) TouchToken(ctx context.Context, id string, at time.Time) error {
	res, err := s.q(ctx).ExecContext(ctx, `UPDATE tokens SET last_used = ? WHERE id = ?`, fmtTime(at), id)
	return affected(res, err, fmt.Sprintf("token %q", id))
}

// DeleteExpiredTokens removes the tokens that expired before now.
func (s *DB) DeleteExpiredTokens(ctx context.Context, now time.Time) (int, error) {
	res, err := s.q(ctx).ExecContext(ctx, `DELETE FROM tokens WHERE expires <> '' AND expires < ?`, fmtTime(now))
	if err != nil {
		return 0, fmt.Errorf("sqlite store: delete expired tokens: %w", err)
	}
	n, err := res.RowsAffected()
	return int(n), err
}
