package sqlite

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dockyard/dockyard/internal/store"
)

// setPageSize shrinks the search page and the full-text listing page for
// one test.
func setPageSize(t *testing.T, n int) {
	old, oldList := searchPageSize, hitListPage
	searchPageSize, hitListPage = n, n
	t.Cleanup(func() { searchPageSize, hitListPage = old, oldList })
}

// oneQueryIDs is the search as one query, the way it was before paging:
// the reference the pages must match exactly.
func oneQueryIDs(t *testing.T, s *DB, q store.EventQuery) []int64 {
	t.Helper()
	from, where, args := "events e", []string{}, []any{}
	if m := ftsMatch(q.Terms); m != "" {
		from = "events_fts f JOIN events e ON e.id = f.rowid"
		where, args = append(where, "events_fts MATCH ?"), append(args, m)
	}
	where = append(where, "e.idx IN ("+strings.TrimSuffix(strings.Repeat("?,", len(q.Indexes)), ",")+")")
	for _, ix := range q.Indexes {
		args = append(args, ix)
	}
	b, ba := timeBounds(q)
	where, args = append(where, b...), append(args, ba...)
	order := "e.time_ns, e.id"
	if q.Reverse {
		order = "e.time_ns DESC, e.id DESC"
	}
	query := "SELECT e.id FROM " + from + " WHERE " + strings.Join(where, " AND ") + " ORDER BY " + order
	if q.Limit > 0 {
		query += fmt.Sprintf(" LIMIT %d", q.Limit)
	}
	rows, err := s.db.Query(query, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		out = append(out, id)
	}
	return out
}

func searchIDs(t *testing.T, s *DB, q store.EventQuery) []int64 {
	t.Helper()
	var out []int64
	for e, err := range s.SearchEvents(context.Background(), q) {
		if err != nil {
			t.Fatalf("SearchEvents(%+v): %v", q, err)
		}
		out = append(out, e.ID)
	}
	return out
}

var pageT0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// loadTies stores n events over main and web whose times come in runs of
// five equal values, inserted out of time order; every third says hello.
func loadTies(t *testing.T, s *DB, n int) {
	t.Helper()
	ctx := context.Background()
	if err := s.CreateIndex(ctx, store.IndexInfo{Name: "web"}); err != nil {
		t.Fatal(err)
	}
	var evs []store.EventRecord
	for i := range n {
		ix := "main"
		if i%4 == 1 {
			ix = "web"
		}
		raw := fmt.Sprintf("event %d", i)
		if i%3 == 0 {
			raw += " hello"
		}
		at := pageT0.Add(time.Duration((n-i)/5) * time.Second) // later ids, earlier times
		if i%7 == 0 {
			at = pageT0.Add(time.Duration(i/5) * time.Second)
		}
		evs = append(evs, store.EventRecord{Index: ix, Time: at, Raw: raw})
	}
	if err := s.InsertEvents(ctx, evs); err != nil {
		t.Fatal(err)
	}
}

// TestSearchPagesMatchOneQuery: across page boundaries, in runs of equal
// times, over two indexes, with limits, bounds and terms, the paged search
// returns exactly the events, in exactly the order, of one query.
func TestSearchPagesMatchOneQuery(t *testing.T) {
	s := openTemp(t)
	loadTies(t, s, 203)
	sec := func(n int) time.Time { return pageT0.Add(time.Duration(n) * time.Second) }
	both := []string{"web", "main"}
	queries := []store.EventQuery{
		{Indexes: []string{"main"}},
		{Indexes: both},
		{Indexes: both, Reverse: true},
		{Indexes: []string{"main", "main"}},
		{Indexes: both, Limit: 13},
		{Indexes: both, Limit: 13, Reverse: true},
		{Indexes: both, Limit: 500},
		{Indexes: both, Earliest: sec(10), Latest: sec(20)},
		{Indexes: both, Earliest: sec(10), Latest: sec(20), Reverse: true, Limit: 7},
		{Indexes: []string{"main"}, Terms: []string{"hello"}},
		{Indexes: both, Terms: []string{"hello"}, Reverse: true},
		{Indexes: both, Terms: []string{"hello"}, Limit: 9, Earliest: sec(5)},
		{Indexes: both, Terms: []string{"absent"}},
		{Indexes: []string{"nope"}},
	}
	for _, size := range []int{1, 2, 3, 5, 512} {
		setPageSize(t, size)
		for _, q := range queries {
			want, got := oneQueryIDs(t, s, q), searchIDs(t, s, q)
			if !slices.Equal(got, want) {
				t.Errorf("page size %d, %+v:\n got %v\nwant %v", size, q, got, want)
			}
		}
	}
	if n := len(oneQueryIDs(t, s, store.EventQuery{Indexes: both})); n != 203 {
		t.Fatalf("reference query found %d events, want 203", n)
	}
}

// TestSearchSeesEventsStoredBeforeItStarted: an event stored while a
// search pages is not picked up by a later page.
func TestSearchSeesEventsStoredBeforeItStarted(t *testing.T) {
	s := openTemp(t)
	setPageSize(t, 2)
	ctx := context.Background()
	var evs []store.EventRecord
	for i := range 5 {
		evs = append(evs, store.EventRecord{Index: "main", Time: pageT0.Add(time.Duration(i) * time.Second), Raw: "x"})
	}
	if err := s.InsertEvents(ctx, evs); err != nil {
		t.Fatal(err)
	}
	for _, q := range []store.EventQuery{{Indexes: []string{"main"}}, {Indexes: []string{"main"}, Terms: []string{"x"}}} {
		n := 0
		for _, err := range s.SearchEvents(ctx, q) {
			if err != nil {
				t.Fatal(err)
			}
			if n++; n == 1 {
				if err := s.InsertEvents(ctx, []store.EventRecord{{Index: "main", Time: pageT0.Add(time.Hour), Raw: "late x"}}); err != nil {
					t.Fatal(err)
				}
			}
		}
		if n != 5 {
			t.Errorf("search %+v saw %d events, want the 5 stored before it started", q, n)
		}
		if _, err := s.db.Exec(`DELETE FROM events WHERE raw = 'late x'`); err != nil {
			t.Fatal(err)
		}
	}
}

// TestPausedSearchesHoldNoConnection: more searches than the pool has
// connections, each stopped by its consumer in the middle of its stream,
// hold no connection, so other reads and writes still run; once resumed,
// each search delivers all its events.
func TestPausedSearchesHoldNoConnection(t *testing.T) {
	s := openTemp(t)
	loadTies(t, s, 100)
	setPageSize(t, 4)
	ctx := context.Background()
	const searches = 12 // the pool has 8 connections
	queries := []store.EventQuery{
		{Indexes: []string{"main", "web"}},
		{Indexes: []string{"main"}, Terms: []string{"hello"}}, // the full-text path
	}
	paused, resume := make(chan int, searches), make(chan struct{})
	counts := make([]int, searches)
	errs := make([]error, searches)
	var wg sync.WaitGroup
	for i := range searches {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, err := range s.SearchEvents(ctx, queries[i%2]) {
				if err != nil {
					errs[i] = err
					paused <- i
					return
				}
				if counts[i]++; counts[i] == 6 { // mid-stream, in the second page
					paused <- i
					<-resume
				}
			}
		}()
	}
	deadline := time.After(2 * time.Minute)
	for range searches {
		select {
		case <-paused:
		case <-deadline:
			t.Fatal("not every search reached its pause: searches block one another on connections")
		}
	}
	if inUse := s.db.Stats().InUse; inUse != 0 {
		t.Errorf("%d connections in use while every search waits on its consumer, want 0", inUse)
	}
	wctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	if _, err := s.GetIndex(wctx, "main"); err != nil {
		t.Errorf("GetIndex while %d searches are paused: %v", searches, err)
	}
	if err := s.InsertEvents(wctx, []store.EventRecord{{Index: "main", Raw: "written while searches wait"}}); err != nil {
		t.Errorf("InsertEvents while %d searches are paused: %v", searches, err)
	}
	close(resume)
	wg.Wait()
	want := []int{len(oneQueryIDs(t, s, queries[0])) - 1, len(oneQueryIDs(t, s, queries[1]))} // less the event written above
	for i := range searches {
		if errs[i] != nil || counts[i] != want[i%2] {
			t.Errorf("search %d: %d events, %v; want %d", i, counts[i], errs[i], want[i%2])
		}
	}
}

// TestSearchPageQueryUsesIndex: a page of a deep search is a range scan
// of events_idx_time, not a sort of everything after the keyset.
func TestSearchPageQueryUsesIndex(t *testing.T) {
	s := openTemp(t)
	for _, rev := range []bool{false, true} {
		q := store.EventQuery{Indexes: []string{"main"}, Reverse: rev, Earliest: pageT0}
		query, args := keysetQuery(q, 100, "main", &eventRow{ns: 5, id: 7}, 10)
		rows, err := s.db.Query("EXPLAIN QUERY PLAN "+query, args...)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		p := strings.Join(plan, "; ")
		if !strings.Contains(p, "events_idx_time") || strings.Contains(p, "TEMP B-TREE") {
			t.Errorf("reverse=%v: plan %q, want a search of events_idx_time without a sort", rev, p)
		}
		t.Logf("reverse=%v: %s", rev, p)
	}
}
