package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/dockyard/dockyard/internal/errdefs"
)

// queryAll runs query (in ctx's transaction, if any) and scans every row
// with scan. The result is never nil: an empty table gives an empty list.
// what names the operation in errors ("list users").
func queryAll[T any](ctx context.Context, s *DB, what string, scan func(scanner) (T, error), query string, args ...any) ([]T, error) {
	rows, err := s.q(ctx).QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite store: %s: %w", what, err)
	}
	defer rows.Close()
	out := []T{}
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite store: %s: %w", what, err)
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// queryOne runs query (in ctx's transaction, if any) and scans its one row
// with scan; no row is an ErrNotFound for what ("user \"alice\"").
func queryOne[T any](ctx context.Context, s *DB, what string, scan func(scanner) (T, error), query string, args ...any) (T, error) {
	v, err := scan(s.q(ctx).QueryRowContext(ctx, query, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return v, fmt.Errorf("%s: %w", what, errdefs.ErrNotFound)
	}
	if err != nil {
		return v, fmt.Errorf("sqlite store: get %s: %w", what, err)
	}
	return v, nil
}

// inserted is the error of an insert of what: a broken unique or foreign
// key is its kind (ErrConflict, ErrNotFound), anything else a store error.
func inserted(err error, what string) error {
	if kind := constraint(err); kind != nil {
		return fmt.Errorf("%s already exists: %w", what, kind)
	}
	if err != nil {
		return fmt.Errorf("sqlite store: create %s: %w", what, err)
	}
	return nil
}

// parseTimes parses RFC 3339 text columns into their fields, in pairs:
// parseTimes(&a.Created, created, &a.Updated, updated).
func parseTimes(pairs ...any) error {
	for i := 0; i+1 < len(pairs); i += 2 {
		t, err := parseTime(pairs[i+1].(string))
		if err != nil {
			return err
		}
		*pairs[i].(*time.Time) = t
	}
	return nil
}
