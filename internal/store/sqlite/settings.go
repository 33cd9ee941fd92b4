package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/dockyard/dockyard/internal/errdefs"
)

// GetSetting returns the value stored under key, or ErrNotFound.
func (s *DB) GetSetting(ctx context.Context, key string) (string, error) {
	var v string
	err := s.q(ctx).QueryRowContext(ctx, `SELECT value FROM settings WHERE key = ?`, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("setting %q: %w", key, errdefs.ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("sqlite store: get setting %q: %w", key, err)
	}
	return v, nil
}

// PutSetting sets key to value, replacing any earlier value.
func (s *DB) PutSetting(ctx context.Context, key, value string) error {
	_, err := s.q(ctx).ExecContext(ctx, `INSERT INTO settings(key, value, updated) VALUES (?, ?, ?)
		ON CONFLICT(key) DO UPDATE SET value = excluded.value, updated = excluded.updated`,
		key, value, fmtTime(time.Now()))
	if err != nil {
		return fmt.Errorf("sqlite store: put setting %q: %w", key, err)
	}
	return nil
}
