package sqlite

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"slices"
	"strings"
	"time"

	"github.com/dockyard/dockyard/internal/store"
)

// A search never holds a database connection while its consumer works: it
// reads a page of at most searchPageSize events, closes the query (the
// connection goes back to the pool) and only then hands the page on. At
// most searchConns page queries run at once, so that with searches at
// full tilt half of the pool (8 connections, set in Open) is always left
// to writers and short reads.
var searchPageSize = 512

const searchConns = 4

// enterSearch waits for one of the searchConns slots (the caller must
// call the func it returns once its query is closed).
func (s *DB) enterSearch(ctx context.Context) (func(), error) {
	if s.searches == nil {
		return func() {}, nil
	}
	select {
	case s.searches <- struct{}{}:
		return func() { <-s.searches }, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("sqlite store: search events: %w", ctx.Err())
	}
}

// eventRow is one events row as read, before its hash is checked.
type eventRow struct {
	id                                 int64
	ns                                 int64
	idx, host, source, sourcetype, raw string
	fields, hash                       string
}

const eventCols = `e.id, e.idx, e.time_ns, e.host, e.source, e.sourcetype, e.raw, e.fields, e.hash`

// readPage runs one bounded query and returns its rows with the
// connection already released.
func (s *DB) readPage(ctx context.Context, query string, args ...any) ([]eventRow, error) {
	leave, err := s.enterSearch(ctx)
	if err != nil {
		return nil, err
	}
	defer leave()
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite store: search events: %w", err)
	}
	defer rows.Close()
	var out []eventRow
	for rows.Next() {
		var r eventRow
		if err := rows.Scan(&r.id, &r.idx, &r.ns, &r.host, &r.source, &r.sourcetype, &r.raw, &r.fields, &r.hash); err != nil {
			return nil, fmt.Errorf("sqlite store: search events: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite store: search events: %w", err)
	}
	return out, nil
}

// record checks r against its stored hash and decodes it.
func (r eventRow) record() (store.EventRecord, error) {
	if err := checkEventHash(r.id, r.idx, r.ns, r.host, r.source, r.sourcetype, r.raw, r.fields, r.hash); err != nil {
		return store.EventRecord{}, err
	}
	e := store.EventRecord{ID: r.id, Index: r.idx, Time: time.Unix(0, r.ns).UTC(), Host: r.host, Source: r.source, Sourcetype: r.sourcetype, Raw: r.raw}
	if r.fields != "" {
		if err := json.Unmarshal([]byte(r.fields), &e.Fields); err != nil {
			return e, fmt.Errorf("sqlite store: event %d: bad fields: %w", e.ID, err)
		}
	}
	return e, nil
}

// before orders rows by (time, id), or the reverse.
func before(a, b eventRow, reverse bool) bool {
	if a.ns != b.ns {
		return (a.ns < b.ns) != reverse
	}
	return (a.id < b.id) != reverse
}

// SearchEvents streams the events q selects, in pages (see searchPageSize).
// It sees the events stored when it started: an event inserted later is
// left out even when its time falls in the range.
func (s *DB) SearchEvents(ctx context.Context, q store.EventQuery) iter.Seq2[store.EventRecord, error] {
	return func(yield func(store.EventRecord, error) bool) {
		if len(q.Indexes) == 0 {
			return
		}
		var high int64 // the last event stored when the search began
		if err := s.db.QueryRowContext(ctx, `SELECT coalesce(max(id), 0) FROM events`).Scan(&high); err != nil {
			yield(store.EventRecord{}, fmt.Errorf("sqlite store: search events: %w", err))
			return
		}
		next := s.mergedPages(ctx, q, high)
		if m := ftsMatch(q.Terms); m != "" {
			next = s.hitPages(ctx, q, m, high)
		}
		n := 0
		for {
			page, err := next()
			if err != nil {
				yield(store.EventRecord{}, err)
				return
			}
			if len(page) == 0 {
				return
			}
			for _, r := range page {
				e, err := r.record()
				if err != nil {
					yield(store.EventRecord{}, err)
					return
				}
				if !yield(e, nil) {
					return
				}
				if n++; q.Limit > 0 && n >= q.Limit {
					return
				}
			}
		}
	}
}

// timeBounds returns q's time conditions on e.time_ns and their arguments.
func timeBounds(q store.EventQuery) ([]string, []any) {
	var where []string
	var args []any
	if !q.Earliest.IsZero() {
		where = append(where, "e.time_ns >= ?")
		args = append(args, q.Earliest.UnixNano())
	}
	if !q.Latest.IsZero() {
		where = append(where, "e.time_ns < ?")
		args = append(args, q.Latest.UnixNano())
	}
	return where, args
}

// indexCursor pages through one index in (time, id) order with a keyset:
// each page starts after the last row of the one before, so a page query
// is an index range scan however deep the search is.
type indexCursor struct {
	idx     string
	buf     []eventRow
	last    *eventRow
	drained bool // the last page came back short: nothing follows buf
}

// keysetQuery selects the n events of index idx that follow last (nil:
// from the start) among those q selects with an id up to high.
func keysetQuery(q store.EventQuery, high int64, idx string, last *eventRow, n int) (string, []any) {
	cmp, order := ">", "e.time_ns, e.id"
	if q.Reverse {
		cmp, order = "<", "e.time_ns DESC, e.id DESC"
	}
	bounds, boundArgs := timeBounds(q)
	where := append([]string{"e.idx = ?", "e.id <= ?"}, bounds...)
	args := append([]any{idx, high}, boundArgs...)
	if last != nil {
		where = append(where, "(e.time_ns, e.id) "+cmp+" (?, ?)")
		args = append(args, last.ns, last.id)
	}
	return `SELECT ` + eventCols + ` FROM events e WHERE ` + strings.Join(where, " AND ") +
		` ORDER BY ` + order + fmt.Sprintf(" LIMIT %d", n), args
}

// mergedPages returns a func that yields the next page of events across
// q's indexes, merged in order, each index paged by its own cursor.
func (s *DB) mergedPages(ctx context.Context, q store.EventQuery, high int64) func() ([]eventRow, error) {
	var cursors []*indexCursor
	for _, ix := range q.Indexes {
		if !slices.ContainsFunc(cursors, func(c *indexCursor) bool { return c.idx == ix }) {
			cursors = append(cursors, &indexCursor{idx: ix})
		}
	}
	left := q.Limit // events still wanted; <= 0: unlimited
	fill := func(c *indexCursor) error {
		if len(c.buf) > 0 || c.drained {
			return nil
		}
		n := searchPageSize
		if left > 0 && left < n {
			n = left
		}
		query, args := keysetQuery(q, high, c.idx, c.last, n)
		rows, err := s.readPage(ctx, query, args...)
		if err != nil {
			return err
		}
		c.buf, c.drained = rows, len(rows) < n
		if len(rows) > 0 {
			c.last = &rows[len(rows)-1]
		}
		return nil
	}
	return func() ([]eventRow, error) {
		var page []eventRow
		for len(page) < searchPageSize && (q.Limit <= 0 || left > 0) {
			var best *indexCursor
			for _, c := range cursors {
				if err := fill(c); err != nil {
					return nil, err
				}
				if len(c.buf) > 0 && (best == nil || before(c.buf[0], best.buf[0], q.Reverse)) {
					best = c
				}
			}
			if best == nil {
				break
			}
			page = append(page, best.buf[0])
			best.buf = best.buf[1:]
			left--
		}
		return page, nil
	}
}
