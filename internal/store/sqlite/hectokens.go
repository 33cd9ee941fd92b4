package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/store"
)

const hecCols = `name, hash, last4, indexes, default_index, disabled, creator, created, use_ack`

func scanHECToken(sc scanner) (store.HECToken, error) {
	var t store.HECToken
	var indexes, created string
	if err := sc.Scan(&t.Name, &t.Hash, &t.Last4, &indexes, &t.DefaultIndex, &t.Disabled, &t.Creator, &created, &t.UseAck); err != nil {
		return t, err
	}
	var err error
	if t.Indexes, err = decList(indexes); err != nil {
		return t, err
	}
	t.Created, err = parseTime(created)
	return t, err
}

// CreateHECToken adds t; ErrConflict if the name or hash exists.
func (s *DB) CreateHECToken(ctx context.Context, t store.HECToken) error {
	_, err := s.q(ctx).ExecContext(ctx, `INSERT INTO hec_tokens(`+hecCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		t.Name, t.Hash, t.Last4, encList(t.Indexes), t.DefaultIndex, t.Disabled, t.Creator, fmtTime(nowIfZero(t.Created)), t.UseAck)
	return inserted(err, fmt.Sprintf("HEC token %q", t.Name))
}

// GetHECTokenByHash returns the token with the given hash, or ErrNotFound.
func (s *DB) GetHECTokenByHash(ctx context.Context, hash string) (store.HECToken, error) {
	t, err := scanHECToken(s.q(ctx).QueryRowContext(ctx, `SELECT `+hecCols+` FROM hec_tokens WHERE hash = ?`, hash))
	if err == sql.ErrNoRows {
		return t, errdefs.NotFound("HEC token not found")
	}
	if err != nil {
		return t, fmt.Errorf("sqlite store: get HEC token: %w", err)
	}
	return t, nil
}

// ListHECTokens returns every token, sorted by name.
func (s *DB) ListHECTokens(ctx context.Context) ([]store.HECToken, error) {
	rows, err := s.q(ctx).QueryContext(ctx, `SELECT `+hecCols+` FROM hec_tokens ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("sqlite store: list HEC tokens: %w", err)
	}
	defer rows.Close()
	var out []store.HECToken
	for rows.Next() {
		t, err := scanHECToken(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite store: list HEC tokens: %w", err)
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// SetHECTokenDisabled disables or enables the named token.
func (s *DB) SetHECTokenDisabled(ctx context.Context, name string, disabled bool) error {
	res, err := s.q(ctx).ExecContext(ctx, `UPDATE hec_tokens SET disabled = ? WHERE name = ?`, disabled, name)
	return affected(res, err, fmt.Sprintf("HEC token %q", name))
}

// DeleteHECToken removes the named token.
func (s *DB) DeleteHECToken(ctx context.Context, name string) error {
	res, err := s.q(ctx).ExecContext(ctx, `DELETE FROM hec_tokens WHERE name = ?`, name)
	return affected(res, err, fmt.Sprintf("HEC token %q", name))
}
