package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/store"
)

const versionCols = `model_id, version, digest, creator, created, algo, params, fit_info, lineage, files, size`

func scanVersion(sc scanner) (store.ModelVersion, error) {
	var v store.ModelVersion
	var created string
	if err := sc.Scan(&v.ModelID, &v.Version, &v.Digest, &v.Creator, &created, &v.Algo, &v.Params,
		&v.FitInfo, &v.Lineage, &v.Files, &v.Size); err != nil {
		return v, err
	}
	var err error
	v.Created, err = parseTime(created)
	return v, err
}

func modelJSON(s string) string {
	if s == "" {
		return "{}"
	}
	return s
}

// AddModelVersion allocates the next number, inserts the version and moves
// the alias, in one transaction: concurrent callers each get their own
// number and none is lost.
func (s *DB) AddModelVersion(ctx context.Context, modelID int64, nv store.NewVersion) (store.ModelVersion, store.AliasMove, error) {
	v := nv.Version
	v.ModelID = modelID
	v.Created = nowIfZero(v.Created)
	var mv store.AliasMove
	err := s.tx(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `UPDATE models SET latest_version = latest_version + 1, updated = ?
			WHERE id = ? RETURNING latest_version`, fmtTime(v.Created), modelID).Scan(&v.Version)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("model %d: %w", modelID, errdefs.ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("sqlite store: allocate version of model %d: %w", modelID, err)
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO model_versions(`+versionCols+`) VALUES (?,?,?,?,?,?,?,?,?,?,?)`,
			v.ModelID, v.Version, v.Digest, v.Creator, fmtTime(v.Created), v.Algo, modelJSON(v.Params),
			modelJSON(v.FitInfo), modelJSON(v.Lineage), v.Files, v.Size)
		if err != nil {
			return fmt.Errorf("sqlite store: insert version %d of model %d: %w", v.Version, modelID, err)
		}
		if nv.Alias == "" {
			return nil
		}
		mv, err = moveAlias(ctx, tx, modelID, nv.Alias, v.Version, v.Creator, nv.Reason, v.Created)
		return err
	})
	if err != nil {
		return store.ModelVersion{}, store.AliasMove{}, err
	}
	return v, mv, nil
}

// moveAlias points alias at version inside tx and records the move.
func moveAlias(ctx context.Context, tx *sql.Tx, modelID int64, alias string, version int, user, reason string, at time.Time) (store.AliasMove, error) {
	mv := store.AliasMove{Alias: alias, To: version, User: user, At: at, Reason: reason}
	err := tx.QueryRowContext(ctx, `SELECT version FROM model_aliases WHERE model_id = ? AND alias = ?`, modelID, alias).Scan(&mv.From)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return mv, fmt.Errorf("sqlite store: read alias %q: %w", alias, err)
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO model_aliases(model_id, alias, version, updated, updated_by) VALUES (?,?,?,?,?)
		ON CONFLICT (model_id, alias) DO UPDATE SET version = excluded.version, updated = excluded.updated,
		updated_by = excluded.updated_by`, modelID, alias, version, fmtTime(at), user)
	if kind := constraint(err); kind != nil {
		return mv, fmt.Errorf("model has no version %d: %w", version, kind)
	}
	if err != nil {
		return mv, fmt.Errorf("sqlite store: set alias %q: %w", alias, err)
	}
	if alias == "current" {
		_, err = tx.ExecContext(ctx, `UPDATE models SET current_version = ?,
			algo = (SELECT algo FROM model_versions WHERE model_id = ? AND version = ?) WHERE id = ?`,
			version, modelID, version, modelID)
		if err != nil {
			return mv, fmt.Errorf("sqlite store: move current: %w", err)
		}
	}
	if err := recordMove(ctx, tx, modelID, &mv); err != nil {
		return mv, err
	}
	return mv, touchModel(ctx, tx, modelID, at)
}

func recordMove(ctx context.Context, tx *sql.Tx, modelID int64, mv *store.AliasMove) error {
	err := tx.QueryRowContext(ctx, `INSERT INTO model_alias_history(model_id, alias, from_version, to_version, user_name, at, reason)
		VALUES (?,?,?,?,?,?,?) RETURNING id`, modelID, mv.Alias, mv.From, mv.To, mv.User, fmtTime(mv.At), mv.Reason).Scan(&mv.ID)
	if err != nil {
		return fmt.Errorf("sqlite store: record alias move: %w", err)
	}
	return nil
}

// GetModelVersion returns one version.
func (s *DB) GetModelVersion(ctx context.Context, modelID int64, version int) (store.ModelVersion, error) {
	v, err := scanVersion(s.q(ctx).QueryRowContext(ctx, `SELECT `+versionCols+` FROM model_versions WHERE model_id = ? AND version = ?`, modelID, version))
	if errors.Is(err, sql.ErrNoRows) {
		return v, fmt.Errorf("version %d: %w", version, errdefs.ErrNotFound)
	}
	if err != nil {
		return v, fmt.Errorf("sqlite store: get version %d of model %d: %w", version, modelID, err)
	}
	return v, nil
}

// ListModelVersions returns a model's versions, newest first.
func (s *DB) ListModelVersions(ctx context.Context, modelID int64) ([]store.ModelVersion, error) {
	rows, err := s.q(ctx).QueryContext(ctx, `SELECT `+versionCols+` FROM model_versions WHERE model_id = ? ORDER BY version DESC`, modelID)
	if err != nil {
		return nil, fmt.Errorf("sqlite store: list versions of model %d: %w", modelID, err)
	}
	defer rows.Close()
	var out []store.ModelVersion
	for rows.Next() {
		v, err := scanVersion(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite store: read version: %w", err)
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// PruneModelVersions deletes versions beyond the newest keep that no alias
// points at.
func (s *DB) PruneModelVersions(ctx context.Context, modelID int64, keep int) ([]int, error) {
	if keep <= 0 {
		return nil, nil
	}
	rows, err := s.q(ctx).QueryContext(ctx, `DELETE FROM model_versions WHERE model_id = ?1
		AND version NOT IN (SELECT version FROM model_versions WHERE model_id = ?1 ORDER BY version DESC LIMIT ?2)
		AND version NOT IN (SELECT version FROM model_aliases WHERE model_id = ?1)
		RETURNING version`, modelID, keep)
	if err != nil {
		return nil, fmt.Errorf("sqlite store: prune versions of model %d: %w", modelID, err)
	}
	defer rows.Close()
	var out []int
	for rows.Next() {
		var n int
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite store: prune versions of model %d: %w", modelID, err)
	}
	return out, nil
}

// SetModelAlias points alias at version and records the move.
func (s *DB) SetModelAlias(ctx context.Context, modelID int64, alias string, version int, user, reason string, at time.Time) (store.AliasMove, error) {
	at = nowIfZero(at)
	var mv store.AliasMove
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var err error
		mv, err = moveAlias(ctx, tx, modelID, alias, version, user, reason, at)
		return err
	})
	return mv, err
}

// DeleteModelAlias removes alias and records the move.
func (s *DB) DeleteModelAlias(ctx context.Context, modelID int64, alias, user, reason string, at time.Time) (store.AliasMove, error) {
	at = nowIfZero(at)
	mv := store.AliasMove{Alias: alias, User: user, At: at, Reason: reason}
	err := s.tx(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `DELETE FROM model_aliases WHERE model_id = ? AND alias = ? RETURNING version`,
			modelID, alias).Scan(&mv.From)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("alias %q: %w", alias, errdefs.ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("sqlite store: delete alias %q: %w", alias, err)
		}
		if err := recordMove(ctx, tx, modelID, &mv); err != nil {
			return err
		}
		return touchModel(ctx, tx, modelID, at)
	})
	return mv, err
}

// ListModelAliases returns a model's aliases by name.
func (s *DB) ListModelAliases(ctx context.Context, modelID int64) ([]store.ModelAlias, error) {
	rows, err := s.q(ctx).QueryContext(ctx, `SELECT alias, version, updated, updated_by FROM model_aliases WHERE model_id = ? ORDER BY alias`, modelID)
	if err != nil {
		return nil, fmt.Errorf("sqlite store: list aliases of model %d: %w", modelID, err)
	}
	defer rows.Close()
	var out []store.ModelAlias
	for rows.Next() {
		var a store.ModelAlias
		var updated string
		if err := rows.Scan(&a.Alias, &a.Version, &updated, &a.UpdatedBy); err != nil {
			return nil, err
		}
		if a.Updated, err = parseTime(updated); err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// ListModelAliasHistory returns every alias move of a model, oldest first.
func (s *DB) ListModelAliasHistory(ctx context.Context, modelID int64) ([]store.AliasMove, error) {
	rows, err := s.q(ctx).QueryContext(ctx, `SELECT id, alias, from_version, to_version, user_name, at, reason
		FROM model_alias_history WHERE model_id = ? ORDER BY id`, modelID)
	if err != nil {
		return nil, fmt.Errorf("sqlite store: alias history of model %d: %w", modelID, err)
	}
	defer rows.Close()
	var out []store.AliasMove
	for rows.Next() {
		var mv store.AliasMove
		var at string
		if err := rows.Scan(&mv.ID, &mv.Alias, &mv.From, &mv.To, &mv.User, &at, &mv.Reason); err != nil {
			return nil, err
		}
		if mv.At, err = parseTime(at); err != nil {
			return nil, err
		}
		out = append(out, mv)
	}
	return out, rows.Err()
}
