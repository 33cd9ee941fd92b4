package sqlite

import (
	"context"
	"fmt"
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
