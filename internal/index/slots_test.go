package index

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/dockyard/dockyard/internal/store"
)

// loadEvents stores n events in main, every other one saying "even".
func loadEvents(t *testing.T, db interface {
	InsertEvents(context.Context, []store.EventRecord) error
}, n int) {
	t.Helper()
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	var evs []store.EventRecord
	for i := range n {
		raw := fmt.Sprintf("event=%d", i)
		if i%2 == 0 {
			raw += " even"
		}
		evs = append(evs, store.EventRecord{Index: "main", Time: t0.Add(time.Duration(i) * time.Second), Raw: raw})
	}
	if err := db.InsertEvents(context.Background(), evs); err != nil {
		t.Fatal(err)
	}
}

// TestPausedSearchesHoldNoSlot: more searches than there are slots, each
// stopped by its consumer mid-stream, do not stop one another; resumed,
// each delivers every event, in order.
func TestPausedSearchesHoldNoSlot(t *testing.T) {
	s, db := newService(t)
	loadEvents(t, db, 3*searchBatch+10)
	ctx := as("alice", []string{"*"})
	searches := cap(s.busy) + 3
	paused, resume := make(chan struct{}, searches), make(chan struct{})
	counts, ordered := make([]int, searches), make([]bool, searches)
	var wg sync.WaitGroup
	for i := range searches {
		wg.Add(1)
		go func() {
			defer wg.Done()
			q := Query{Indexes: []string{"main"}}
			if i%2 == 1 {
				q.Terms = []string{"even"}
			}
			ordered[i] = true
			var last int64
			for e, err := range s.Search(ctx, q) {
				if err != nil {
					t.Errorf("search %d: %v", i, err)
					break
				}
				if e.Seq <= last {
					ordered[i] = false
				}
				last = e.Seq
				if counts[i]++; counts[i] == searchBatch+1 { // in the second batch
					paused <- struct{}{}
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
			t.Fatal("not every search reached its pause: a paused consumer keeps its slot")
		}
	}
	if n := len(s.busy); n != 0 {
		t.Errorf("%d slots held while every search waits on its consumer, want 0", n)
	}
	close(resume)
	wg.Wait()
	for i := range searches {
		want := 3*searchBatch + 10
		if i%2 == 1 {
			want = want/2 + want%2
		}
		if counts[i] != want || !ordered[i] {
			t.Errorf("search %d: %d events (in order: %v), want %d", i, counts[i], ordered[i], want)
		}
	}
}

// TestNestedSearchRunsWhileOuterPaused: a search run to its end from
// inside the consumer of other searches (as a subsearch or join does)
// finishes even when those outer searches outnumber the slots.
func TestNestedSearchRunsWhileOuterPaused(t *testing.T) {
	s, db := newService(t)
	loadEvents(t, db, 2*searchBatch)
	ctx := as("alice", []string{"*"})
	outer := cap(s.busy) + 1
	var wg sync.WaitGroup
	inner := make([]int, outer)
	for i := range outer {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range s.Search(ctx, Query{Indexes: []string{"main"}}) {
				inner[i] = len(search(t, s, ctx, Query{Indexes: []string{"main"}, Terms: []string{"even"}}))
				break
			}
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(2 * time.Minute):
		t.Fatal("nested searches did not finish: they wait on slots their outer searches hold")
	}
	for i, n := range inner {
		if n != searchBatch {
			t.Errorf("nested search %d found %d events, want %d", i, n, searchBatch)
		}
	}
}

// TestSearchLimitAcrossBatches: a limit inside, at and past a batch
// boundary gives exactly that many events, the first ones.
func TestSearchLimitAcrossBatches(t *testing.T) {
	s, db := newService(t)
	loadEvents(t, db, 2*searchBatch+5)
	ctx := as("alice", []string{"*"})
	all := search(t, s, ctx, Query{Indexes: []string{"main"}, Terms: []string{"even"}})
	for _, limit := range []int{1, searchBatch - 1, searchBatch, searchBatch + 1, len(all), len(all) + 1} {
		for _, terms := range [][]string{nil, {"even"}} {
			got := search(t, s, ctx, Query{Indexes: []string{"main"}, Terms: terms, Limit: limit})
			want := min(limit, 2*searchBatch+5)
			if terms != nil {
				want = min(limit, len(all))
			}
			if len(got) != want || (terms != nil && got[len(got)-1].Seq != all[want-1].Seq) {
				t.Errorf("limit %d, terms %v: %d events, want %d", limit, terms, len(got), want)
			}
		}
	}
}
