package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/store"
)

var _ store.NotebookStore = (*DB)(nil)

const notebookCols = `id, name, app, owner, sharing, read_roles, write_roles, latest, created, updated`

func scanNotebook(sc scanner) (store.Notebook, error) {
	var n store.Notebook
	var k koText
	if err := sc.Scan(&n.ID, &n.Name, &n.App, &n.Owner, &n.Sharing, &k.read, &k.write, &n.Latest, &k.created, &k.updated); err != nil {
		return n, err
	}
	return n, k.decode(&n.Read, &n.Write, &n.Created, &n.Updated)
}

func notebookScope(n store.Notebook) string { return ownerScope(n.Sharing, n.Owner) }

// CreateNotebook inserts a notebook without versions.
func (s *DB) CreateNotebook(ctx context.Context, n store.Notebook) (store.Notebook, error) {
	n.Created = nowIfZero(n.Created)
	if n.Updated.IsZero() {
		n.Updated = n.Created
	}
	n.Latest = 0
	err := s.q(ctx).QueryRowContext(ctx, `INSERT INTO notebooks(name, app, owner, sharing, scope_owner, read_roles,
		write_roles, created, updated) VALUES (?,?,?,?,?,?,?,?,?) RETURNING id`,
		n.Name, n.App, n.Owner, n.Sharing, notebookScope(n), encList(n.Read), encList(n.Write),
		fmtTime(n.Created), fmtTime(n.Updated)).Scan(&n.ID)
	if err != nil {
		if kind := constraint(err); kind != nil {
			return store.Notebook{}, fmt.Errorf("notebook %q in app %q exists: %w", n.Name, n.App, kind)
		}
		return store.Notebook{}, fmt.Errorf("sqlite store: create notebook %q: %w", n.Name, err)
	}
	return n, nil
}

// GetNotebook returns the notebook id.
func (s *DB) GetNotebook(ctx context.Context, id int64) (store.Notebook, error) {
	n, err := scanNotebook(s.q(ctx).QueryRowContext(ctx, `SELECT `+notebookCols+` FROM notebooks WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return n, errdefs.NotFoundf("notebook %d not found", id)
	}
	if err != nil {
		return n, fmt.Errorf("sqlite store: get notebook %d: %w", id, err)
	}
	return n, nil
}

func (s *DB) queryNotebooks(ctx context.Context, q string, args ...any) ([]store.Notebook, error) {
	rows, err := s.q(ctx).QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite store: notebooks: %w", err)
	}
	defer rows.Close()
	var out []store.Notebook
	for rows.Next() {
		n, err := scanNotebook(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite store: notebooks: %w", err)
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

// FindNotebooks returns the notebooks called name.
func (s *DB) FindNotebooks(ctx context.Context, name string) ([]store.Notebook, error) {
	return s.queryNotebooks(ctx, `SELECT `+notebookCols+` FROM notebooks WHERE name = ? ORDER BY app, owner, id`, name)
}

// ListNotebooks returns every notebook.
func (s *DB) ListNotebooks(ctx context.Context) ([]store.Notebook, error) {
	return s.queryNotebooks(ctx, `SELECT `+notebookCols+` FROM notebooks ORDER BY name, app, owner, id`)
}

// UpdateNotebook changes sharing and roles.
func (s *DB) UpdateNotebook(ctx context.Context, n store.Notebook) error {
	n.Updated = nowIfZero(n.Updated)
	res, err := s.q(ctx).ExecContext(ctx, `UPDATE notebooks SET sharing = ?, scope_owner = ?, read_roles = ?, write_roles = ?,
		updated = ? WHERE id = ?`, n.Sharing, notebookScope(n), encList(n.Read), encList(n.Write), fmtTime(n.Updated), n.ID)
	if kind := constraint(err); kind != nil {
		return fmt.Errorf("notebook %q in app %q exists at that sharing level: %w", n.Name, n.App, kind)
	}
	return affected(res, err, fmt.Sprintf("notebook %q", n.Name))
}

// DeleteNotebook removes a notebook and its versions.
func (s *DB) DeleteNotebook(ctx context.Context, id int64) error {
	res, err := s.q(ctx).ExecContext(ctx, `DELETE FROM notebooks WHERE id = ?`, id)
	return affected(res, err, fmt.Sprintf("notebook %d", id))
}

// AddNotebookVersion appends the next version in one transaction.
func (s *DB) AddNotebookVersion(ctx context.Context, id int64, v store.NotebookVersion) (store.NotebookVersion, error) {
	v.Created = nowIfZero(v.Created)
	v.NotebookID = id
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, `UPDATE notebooks SET latest = latest + 1, updated = ? WHERE id = ? RETURNING latest`,
			fmtTime(v.Created), id).Scan(&v.Version); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return errdefs.NotFoundf("notebook %d not found", id)
			}
			return fmt.Errorf("sqlite store: notebook version: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO notebook_versions(notebook_id, version, format, digest, size, author, source, created)
		VALUES (?,?,?,?,?,?,?,?)`, id, v.Version, v.Format, v.Digest, v.Size, v.Author, v.Source, fmtTime(v.Created)); err != nil {
			return fmt.Errorf("sqlite store: notebook version: %w", err)
		}
		return nil
	})
	return v, err
}

// NotebookVersions returns the versions of a notebook, oldest first.
func (s *DB) NotebookVersions(ctx context.Context, id int64) ([]store.NotebookVersion, error) {
	rows, err := s.q(ctx).QueryContext(ctx, `SELECT notebook_id, version, format, digest, size, author, source, created
		FROM notebook_versions WHERE notebook_id = ? ORDER BY version`, id)
	if err != nil {
		return nil, fmt.Errorf("sqlite store: notebook versions: %w", err)
	}
	defer rows.Close()
	var out []store.NotebookVersion
	for rows.Next() {
		var v store.NotebookVersion
		var created string
		if err := rows.Scan(&v.NotebookID, &v.Version, &v.Format, &v.Digest, &v.Size, &v.Author, &v.Source, &created); err != nil {
			return nil, fmt.Errorf("sqlite store: notebook versions: %w", err)
		}
		if v.Created, err = parseTime(created); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}
