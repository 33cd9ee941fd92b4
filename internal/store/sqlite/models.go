package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"time"

	"github.com/dockyard/dockyard/internal/store"
)

var _ store.ModelStore = (*DB)(nil)

const modelCols = `m.id, m.name, m.app, m.owner, m.sharing, m.read_roles, m.write_roles, m.description,
	m.tags, m.latest_version, m.current_version, m.algo, m.created, m.updated`

func scanModel(sc scanner) (store.Model, error) {
	var m store.Model
	var k koText
	var tags string
	if err := sc.Scan(&m.ID, &m.Name, &m.App, &m.Owner, &m.Sharing, &k.read, &k.write, &m.Description,
		&tags, &m.Latest, &m.Current, &m.Algo, &k.created, &k.updated); err != nil {
		return m, err
	}
	var err error
	if m.Tags, err = decList(tags); err != nil {
		return m, err
	}
	return m, k.decode(&m.Read, &m.Write, &m.Created, &m.Updated)
}

// scopeOwner is the owner part of a model's unique key: private models are
// unique per owner, shared ones per app.
func scopeOwner(m store.Model) string { return ownerScope(m.Sharing, m.Owner) }

// readOpen reports whether every role may read a model that is visible to
// it: no read roles at all, or the pseudo-role "*" among read or write roles.
func readOpen(m store.Model) int {
	if len(m.Read) == 0 || slices.Contains(m.Read, "*") || slices.Contains(m.Write, "*") {
		return 1
	}
	return 0
}

// writeModelSets replaces the role and tag rows of a model.
func writeModelSets(ctx context.Context, tx *sql.Tx, m store.Model) error {
	for _, q := range []string{`DELETE FROM model_roles WHERE model_id = ?`, `DELETE FROM model_tags WHERE model_id = ?`} {
		if _, err := tx.ExecContext(ctx, q, m.ID); err != nil {
			return err
		}
	}
	for kind, roles := range map[string][]string{"read": m.Read, "write": m.Write} {
		for _, r := range roles {
			if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO model_roles(model_id, role, kind) VALUES (?, ?, ?)`, m.ID, r, kind); err != nil {
				return err
			}
		}
	}
	for _, t := range m.Tags {
		if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO model_tags(model_id, tag) VALUES (?, ?)`, m.ID, t); err != nil {
			return err
		}
	}
	return nil
}

// CreateModel inserts a model.
func (s *DB) CreateModel(ctx context.Context, m store.Model) (store.Model, error) {
	m.Created = nowIfZero(m.Created)
	if m.Updated.IsZero() {
		m.Updated = m.Created
	}
	m.Latest, m.Current, m.Algo = 0, 0, ""
	err := s.tx(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `INSERT INTO models(name, app, owner, sharing, scope_owner, read_roles,
			write_roles, read_open, description, tags, created, updated) VALUES (?,?,?,?,?,?,?,?,?,?,?,?) RETURNING id`,
			m.Name, m.App, m.Owner, m.Sharing, scopeOwner(m), encList(m.Read), encList(m.Write), readOpen(m),
			m.Description, encList(m.Tags), fmtTime(m.Created), fmtTime(m.Updated)).Scan(&m.ID)
		if err != nil {
			if kind := constraint(err); kind != nil {
				return fmt.Errorf("model %q in app %q exists: %w", m.Name, m.App, kind)
			}
			return fmt.Errorf("sqlite store: create model %q: %w", m.Name, err)
		}
		return writeModelSets(ctx, tx, m)
	})
	if err != nil {
		return store.Model{}, err
	}
	return m, nil
}

// GetModel returns the model with id.
func (s *DB) GetModel(ctx context.Context, id int64) (store.Model, error) {
	return queryOne(ctx, s, fmt.Sprintf("model %d", id), scanModel, `SELECT `+modelCols+` FROM models m WHERE m.id = ?`, id)
}

// FindModels returns every model called name.
func (s *DB) FindModels(ctx context.Context, name string) ([]store.Model, error) {
	rows, err := s.q(ctx).QueryContext(ctx, `SELECT `+modelCols+` FROM models m WHERE m.name = ? ORDER BY m.app, m.owner, m.id`, name)
	if err != nil {
		return nil, fmt.Errorf("sqlite store: find models %q: %w", name, err)
	}
	return collectModels(rows)
}

// ModelsWithoutVersions returns the models that have no version.
func (s *DB) ModelsWithoutVersions(ctx context.Context) ([]store.Model, error) {
	rows, err := s.q(ctx).QueryContext(ctx, `SELECT `+modelCols+` FROM models m
		WHERE NOT EXISTS (SELECT 1 FROM model_versions v WHERE v.model_id = m.id) ORDER BY m.id`)
	if err != nil {
		return nil, fmt.Errorf("sqlite store: models without versions: %w", err)
	}
	return collectModels(rows)
}

func collectModels(rows *sql.Rows) ([]store.Model, error) {
	defer rows.Close()
	var out []store.Model
	for rows.Next() {
		m, err := scanModel(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite store: read model: %w", err)
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// UpdateModel changes a model's sharing, roles, description and tags.
func (s *DB) UpdateModel(ctx context.Context, m store.Model) error {
	m.Updated = nowIfZero(m.Updated)
	return s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE models SET sharing = ?, scope_owner = ?, read_roles = ?, write_roles = ?,
			read_open = ?, description = ?, tags = ?, updated = ? WHERE id = ?`,
			m.Sharing, scopeOwner(m), encList(m.Read), encList(m.Write), readOpen(m), m.Description,
			encList(m.Tags), fmtTime(m.Updated), m.ID)
		if kind := constraint(err); kind != nil {
			return fmt.Errorf("another model %q already has this sharing scope in app %q: %w", m.Name, m.App, kind)
		}
		if err := affected(res, err, fmt.Sprintf("model %d", m.ID)); err != nil {
			return err
		}
		return writeModelSets(ctx, tx, m)
	})
}

// DeleteModel removes a model and everything it holds.
func (s *DB) DeleteModel(ctx context.Context, id int64) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM model_aliases WHERE model_id = ?`, id); err != nil {
			return fmt.Errorf("sqlite store: delete model %d aliases: %w", id, err)
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM models WHERE id = ?`, id)
		return affected(res, err, fmt.Sprintf("model %d", id))
	})
}

// touchModel sets a model's updated time inside tx.
func touchModel(ctx context.Context, tx *sql.Tx, id int64, at time.Time) error {
	_, err := tx.ExecContext(ctx, `UPDATE models SET updated = ? WHERE id = ?`, fmtTime(at), id)
	return err
}
