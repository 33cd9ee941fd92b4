package sqlite

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/dockyard/dockyard/internal/store"
)

// hitListPage is how many hits one listing query of a full-text search
// returns.
var hitListPage = 4096

// hit is a full-text hit: an event's id and time.
type hit struct{ id, ns int64 }

// listHits returns the hits of the full-text expression m among the
// events q selects with an id up to high, in q's order and cut to q.Limit.
// The full-text index yields hits in id order, not time order, so a keyset
// on time cannot page it; instead the hits are listed a page at a time in
// id order (the index seeks past the last id, each query is short and
// gives its connection back) and sorted here, at 16 bytes a hit.
func (s *DB) listHits(ctx context.Context, q store.EventQuery, m string, high int64) ([]hit, error) {
	where := []string{"events_fts MATCH ?", "f.rowid > ?", "f.rowid <= ?",
		"e.idx IN (" + strings.TrimSuffix(strings.Repeat("?,", len(q.Indexes)), ",") + ")"}
	bounds, boundArgs := timeBounds(q)
	where = append(where, bounds...)
	query := `SELECT e.id, e.time_ns FROM events_fts f JOIN events e ON e.id = f.rowid WHERE ` +
		strings.Join(where, " AND ") + " ORDER BY f.rowid LIMIT ?"
	var hits []hit
	for after := int64(0); ; {
		args := []any{m, after, high}
		for _, ix := range q.Indexes {
			args = append(args, ix)
		}
		args = append(append(args, boundArgs...), hitListPage)
		n, err := s.listHitPage(ctx, query, args, &hits)
		if err != nil {
			return nil, err
		}
		if n < hitListPage {
			break
		}
		after = hits[len(hits)-1].id
	}
	slices.SortFunc(hits, func(a, b hit) int {
		c := cmp.Or(cmp.Compare(a.ns, b.ns), cmp.Compare(a.id, b.id))
		if q.Reverse {
			return -c
		}
		return c
	})
	if q.Limit > 0 && len(hits) > q.Limit {
		hits = hits[:q.Limit]
	}
	return hits, nil
}

// listHitPage runs one listing query, appending to hits; it returns how
// many rows it read.
func (s *DB) listHitPage(ctx context.Context, query string, args []any, hits *[]hit) (int, error) {
	leave, err := s.enterSearch(ctx)
	if err != nil {
		return 0, err
	}
	defer leave()
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return 0, fmt.Errorf("sqlite store: search events: %w", err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var h hit
		if err := rows.Scan(&h.id, &h.ns); err != nil {
			return 0, fmt.Errorf("sqlite store: search events: %w", err)
		}
		*hits = append(*hits, h)
		n++
	}
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("sqlite store: search events: %w", err)
	}
	return n, nil
}

// hitPages returns a func that yields the next page of events matching
// the full-text expression m: the hits are listed first (listHits), then
// their events read by id a page at a time.
func (s *DB) hitPages(ctx context.Context, q store.EventQuery, m string, high int64) func() ([]eventRow, error) {
	var hits []hit
	listed := false
	return func() ([]eventRow, error) {
		if !listed {
			listed = true
			var err error
			if hits, err = s.listHits(ctx, q, m, high); err != nil {
				return nil, err
			}
		}
		for len(hits) > 0 {
			chunk := hits[:min(len(hits), searchPageSize)]
			hits = hits[len(chunk):]
			args := make([]any, len(chunk))
			for i, h := range chunk {
				args[i] = h.id
			}
			rows, err := s.readPage(ctx, `SELECT `+eventCols+` FROM events e WHERE e.id IN (`+
				strings.TrimSuffix(strings.Repeat("?,", len(chunk)), ",")+`)`, args...)
			if err != nil {
				return nil, err
			}
			// Back into the listed order; an event deleted since (its
			// index was deleted) is left out.
			byID := make(map[int64]eventRow, len(rows))
			for _, r := range rows {
				byID[r.id] = r
			}
			page := make([]eventRow, 0, len(rows))
			for _, h := range chunk {
				if r, ok := byID[h.id]; ok {
					page = append(page, r)
				}
			}
			if len(page) > 0 {
				return page, nil
			}
		}
		return nil, nil
	}
}
