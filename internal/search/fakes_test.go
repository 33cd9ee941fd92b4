package search

import (
	"bytes"
	"context"
	"io"
	"iter"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/events"
)

// memLookups is a Lookups kept in memory, keyed by app/name.
type memLookups struct {
	mu    sync.Mutex
	files map[string][]byte
}

func (m *memLookups) Open(_ context.Context, app, name string) (io.ReadCloser, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, ok := m.files[app+"/"+name]
	if !ok {
		return nil, errdefs.NotFound("lookup not found: " + name)
	}
	return io.NopCloser(bytes.NewReader(b)), nil
}

func (m *memLookups) Write(_ context.Context, app, name string, r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.files[app+"/"+name] = b
	return nil
}

// loadLookups reads testdata/lookups/*.csv into app "search".
func loadLookups(t testing.TB) *memLookups {
	m := &memLookups{files: map[string][]byte{}}
	files, _ := filepath.Glob("testdata/lookups/*.csv")
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		m.files["search/"+filepath.Base(f)] = b
	}
	return m
}

// memEvents serves a fixed list of events, filtering by index, terms and
// time as the real index does (a superset is allowed; this is exact).
type memEvents struct {
	events  []events.Event
	queries []events.Query
}

func (m *memEvents) Events(_ context.Context, q events.Query) iter.Seq2[events.Event, error] {
	m.queries = append(m.queries, q)
	return func(yield func(events.Event, error) bool) {
		for i := range m.events {
			ev := m.events[len(m.events)-1-i] // newest first
			if !matchesIndex(q.Indexes, ev.Index) ||
				!q.Earliest.IsZero() && ev.Time.Before(q.Earliest) ||
				!q.Latest.IsZero() && !ev.Time.Before(q.Latest) {
				continue
			}
			ok := true
			for _, term := range q.Terms {
				if !strings.Contains(strings.ToLower(ev.Raw), strings.ToLower(term)) {
					ok = false
				}
			}
			if ok && !yield(ev, nil) {
				return
			}
		}
	}
}

func matchesIndex(idx []string, name string) bool {
	for _, i := range idx {
		if i == name || i == "*" && name != "_internal" {
			return true
		}
	}
	return false
}

var testNow = time.Date(2026, 1, 2, 12, 0, 0, 0, time.UTC)

func testEvents() *memEvents {
	at := func(h int) time.Time { return testNow.Add(-time.Duration(h) * time.Hour) }
	return &memEvents{events: []events.Event{
		{Index: "main", Time: at(48), Host: "web-01", Source: "/var/log/auth", Sourcetype: "auth", Raw: "failed login for alice", Fields: map[string]string{"user": "alice", "status": "401"}},
		{Index: "main", Time: at(5), Host: "web-01", Source: "/var/log/auth", Sourcetype: "auth", Raw: "failed login for bob", Fields: map[string]string{"user": "bob", "status": "401"}},
		{Index: "main", Time: at(4), Host: "web-02", Source: "/var/log/auth", Sourcetype: "auth", Raw: "login ok for carol", Fields: map[string]string{"user": "carol", "status": "200"}},
		{Index: "main", Time: at(3), Host: "web-02", Source: "/var/log/access", Sourcetype: "access_combined", Raw: "GET /index.html 304", Fields: map[string]string{"status": "304"}},
		{Index: "main", Time: at(2), Host: "web-03", Source: "/var/log/auth", Sourcetype: "auth", Raw: "failed login for dave", Fields: map[string]string{"user": "dave", "status": "403"}},
		{Index: "_internal", Time: at(1), Host: "dockyard", Source: "audit", Sourcetype: "dockyard:audit", Raw: "mltk-container fit into=app:IrisModel", Fields: map[string]string{"action": "fit"}},
	}}
}

func testEnv(t testing.TB) *Env {
	return &Env{
		App:     "search",
		Now:     func() time.Time { return testNow },
		Lookups: loadLookups(t),
		Events:  testEvents(),
	}
}
