package sqlite

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/store"
)

func searchAll(t *testing.T, db *DB) ([]store.EventRecord, error) {
	t.Helper()
	var out []store.EventRecord
	for e, err := range db.SearchEvents(context.Background(), store.EventQuery{Indexes: []string{"main"}}) {
		if err != nil {
			return out, err
		}
		out = append(out, e)
	}
	return out, nil
}

// TestTamperedEventDetectedOnRead flips a bit in a stored event's _raw (and
// edits another's fields) behind the store's back: reading must fail,
// naming the event, rather than serve the changed bytes.
func TestTamperedEventDetectedOnRead(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name   string
		tamper string // SQL run on the second event (id = ?)
	}{
		{"bit flipped in _raw", `UPDATE events SET raw = 'action=login user=alicf result=success' WHERE id = ?`},
		{"indexed field changed", `UPDATE events SET fields = '{"user":"mallory"}' WHERE id = ?`},
		{"time moved", `UPDATE events SET time_ns = time_ns + 1 WHERE id = ?`},
		{"moved to another index", `UPDATE events SET idx = '_internal' WHERE id = ?`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			db := openTemp(t)
			now := time.Now()
			evs := []store.EventRecord{
				{Index: "main", Time: now, Raw: "first event"},
				{Index: "main", Time: now.Add(time.Second), Raw: "action=login user=alice result=success", Fields: map[string]string{"user": "alice"}},
				{Index: "main", Time: now.Add(2 * time.Second), Raw: "third event"},
			}
			if err := db.InsertEvents(ctx, evs); err != nil {
				t.Fatal(err)
			}
			got, err := searchAll(t, db)
			if err != nil || len(got) != 3 {
				t.Fatalf("untouched events: %d read, %v", len(got), err)
			}
			victim := got[1].ID
			if _, err := db.db.ExecContext(ctx, tc.tamper, victim); err != nil {
				t.Fatal(err)
			}
			var read []store.EventRecord
			var rerr error
			for e, err := range db.SearchEvents(ctx, store.EventQuery{Indexes: []string{"main", "_internal"}}) {
				if err != nil {
					rerr = err
					break
				}
				read = append(read, e)
			}
			if !errors.Is(rerr, ErrEventCorrupt) || !errdefs.IsUnavailable(rerr) {
				t.Fatalf("reading a tampered event: error %v, want ErrEventCorrupt (events read: %v)", rerr, read)
			}
			for _, e := range read {
				if e.ID == victim {
					t.Fatalf("the tampered event was served: %+v", e)
				}
			}
			for _, want := range []string{"event " + strconv.FormatInt(victim, 10), "restore"} {
				if !strings.Contains(rerr.Error(), want) {
					t.Errorf("error %q does not mention %q", rerr, want)
				}
			}
		})
	}
}

// TestEventsWithoutHashReadUnchecked: events stored before hashes were kept
// (an empty hash) are still served.
func TestEventsWithoutHashReadUnchecked(t *testing.T) {
	db := openTemp(t)
	ctx := context.Background()
	if err := db.InsertEvents(ctx, []store.EventRecord{{Index: "main", Time: time.Now(), Raw: "old event"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.db.ExecContext(ctx, `UPDATE events SET hash = ''`); err != nil {
		t.Fatal(err)
	}
	got, err := searchAll(t, db)
	if err != nil || len(got) != 1 || got[0].Raw != "old event" {
		t.Fatalf("events = %v, %v; want the old event", got, err)
	}
}
