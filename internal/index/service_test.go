package index

import (
	"context"
	"log/slog"
	"maps"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/dockyard/dockyard/internal/access"
	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/store/sqlite"
)

type tlogWriter struct{ t *testing.T }

func (w tlogWriter) Write(b []byte) (int, error) { w.t.Log(string(b)); return len(b), nil }

func newService(t *testing.T) (*Service, *sqlite.DB) {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "dockyard.db"))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	log := slog.New(slog.NewTextHandler(tlogWriter{t}, nil))
	return NewService(db, Options{Logger: log, Host: "testhost"}), db
}

func as(user string, indexes []string, caps ...access.Capability) context.Context {
	cs := access.CapSet{}
	for _, c := range caps {
		cs[c] = true
	}
	return access.WithPrincipal(context.Background(), &access.Principal{User: user, Indexes: indexes, Caps: cs})
}

func search(t *testing.T, s *Service, ctx context.Context, q Query) []Event {
	t.Helper()
	var out []Event
	for e, err := range s.Search(ctx, q) {
		if err != nil {
			t.Fatalf("Search(%+v): %v", q, err)
		}
		out = append(out, e)
	}
	return out
}

func rawsOf(evs []Event) []string {
	var out []string
	for _, e := range evs {
		out = append(out, e.Raw)
	}
	return out
}

func TestIndexManagement(t *testing.T) {
	s, _ := newService(t)
	admin := as("admin", []string{"*"}, access.CapEditIndexes, access.CapReadAudit)
	for _, bad := range []string{"", "_x", "-x", "Upper", "a b", "a/b", string(make([]byte, 81))} {
		if _, err := s.CreateIndex(admin, bad); !errdefs.IsInvalid(err) {
			t.Errorf("CreateIndex(%q) error = %v, want ErrInvalid", bad, err)
		}
	}
	if _, err := s.CreateIndex(admin, "web-logs_2"); err != nil {
		t.Fatalf("CreateIndex: %v", err)
	}
	if _, err := s.CreateIndex(admin, "web-logs_2"); !errdefs.IsConflict(err) {
		t.Errorf("CreateIndex(duplicate) error = %v, want ErrConflict", err)
	}
	if err := s.Ingest(admin, []Event{{Index: "web-logs_2", Raw: "x"}, {Raw: "to main"}}); err != nil {
		t.Fatal(err)
	}
	l, err := s.ListIndexes(admin)
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]int64{}
	for _, ix := range l {
		counts[ix.Name] = ix.Events
	}
	if want := map[string]int64{"_internal": 0, "main": 1, "web-logs_2": 1}; !maps.Equal(counts, want) {
		t.Errorf("ListIndexes counts = %v, want %v", counts, want)
	}
	// A user who may read only main sees only main.
	l, _ = s.ListIndexes(as("bob", []string{"main"}))
	if len(l) != 1 || l[0].Name != "main" {
		t.Errorf("ListIndexes(bob) = %+v, want only main", l)
	}
	if err := s.DeleteIndex(admin, "_internal"); !errdefs.IsInvalid(err) {
		t.Errorf("DeleteIndex(_internal) error = %v, want ErrInvalid", err)
	}
	if err := s.DeleteIndex(admin, "web-logs_2"); err != nil {
		t.Fatal(err)
	}
	if err := s.Ingest(admin, []Event{{Index: "web-logs_2", Raw: "x"}}); !errdefs.IsNotFound(err) {
		t.Errorf("Ingest(deleted index) error = %v, want ErrNotFound", err)
	}
}

func TestSearchPermissionsAndTerms(t *testing.T) {
	s, _ := newService(t)
	admin := as("admin", []string{"*"}, access.CapEditIndexes, access.CapReadAudit)
	if _, err := s.CreateIndex(admin, "secret"); err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	evs := []Event{
		{Index: "main", Time: t0, Raw: `user=alice action="model fit" status=200`},
		{Index: "secret", Time: t0.Add(time.Second), Raw: "user=carol payroll"},
		{Index: "_internal", Time: t0.Add(2 * time.Second), Raw: "action=login user=alice"},
		{Index: "main", Time: t0.Add(3 * time.Second), Raw: `{"user":"dave","n":3,"tags":["a"]}`, Fields: map[string]string{"team": "ml"}},
		{Index: "main", Time: t0.Add(4 * time.Second), Raw: "usernames are not users"},
	}
	if err := s.Ingest(admin, evs); err != nil {
		t.Fatal(err)
	}
	bob := as("bob", []string{"main"})
	tests := []struct {
		name string
		ctx  context.Context
		q    Query
		want []string
	}{
		{"star skips _internal", admin, Query{Indexes: []string{"*"}, Terms: []string{"user"}},
			[]string{evs[0].Raw, evs[1].Raw, evs[3].Raw}},
		{"_internal by name", admin, Query{Indexes: []string{"_internal"}}, []string{evs[2].Raw}},
		{"unreadable index looks absent", bob, Query{Indexes: []string{"secret"}}, nil},
		{"unreadable _internal", bob, Query{Indexes: []string{"_internal"}}, nil},
		{"missing index", bob, Query{Indexes: []string{"nope"}}, nil},
		{"no principal", context.Background(), Query{Indexes: []string{"*"}}, nil},
		{"star for bob", bob, Query{Indexes: []string{"*"}, Reverse: true},
			[]string{evs[4].Raw, evs[3].Raw, evs[0].Raw}},
		{"phrase", bob, Query{Indexes: []string{"main"}, Terms: []string{"model fit"}}, []string{evs[0].Raw}},
		{"wildcard", bob, Query{Indexes: []string{"main"}, Terms: []string{"user*"}}, []string{evs[0].Raw, evs[3].Raw, evs[4].Raw}},
		{"indexed field", bob, Query{Indexes: []string{"main"}, Terms: []string{"ML"}}, []string{evs[3].Raw}},
		{"time range", bob, Query{Indexes: []string{"main"}, Earliest: t0.Add(time.Second), Latest: t0.Add(4 * time.Second)}, []string{evs[3].Raw}},
		{"limit", bob, Query{Indexes: []string{"main"}, Terms: []string{"user*"}, Reverse: true, Limit: 2}, []string{evs[4].Raw, evs[3].Raw}},
		{"pattern", admin, Query{Indexes: []string{"sec*"}}, []string{evs[1].Raw}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := rawsOf(search(t, s, tt.ctx, tt.q)); !slices.Equal(got, tt.want) {
				t.Errorf("got %q\nwant %q", got, tt.want)
			}
		})
	}
	got := search(t, s, bob, Query{Indexes: []string{"main"}})
	if f := got[0].Fields; f["user"] != "alice" || f["action"] != "model fit" || f["status"] != "200" {
		t.Errorf("key=value fields = %v", f)
	}
	if f := got[1].Fields; f["user"] != "dave" || f["n"] != "3" || f["tags"] != `["a"]` || f["team"] != "ml" {
		t.Errorf("JSON fields = %v", f)
	}
	if got[0].Host != "testhost" || got[0].Seq == 0 {
		t.Errorf("defaults not applied: %+v", got[0])
	}
}

func TestExtractFields(t *testing.T) {
	tests := []struct {
		raw  string
		want map[string]string
	}{
		{"no pairs here", nil},
		{`a=1 b="two words" c=x,d=y;e=z`, map[string]string{"a": "1", "b": "two words", "c": "x", "d": "y", "e": "z"}},
		{"into=app:MyModel into=other", map[string]string{"into": "app:MyModel"}},
		{`k="esc \"q\""`, map[string]string{"k": `esc "q"`}},
		{"x.y=1 empty=", map[string]string{"x.y": "1", "empty": ""}},
		{`{"a":"b","c":{"d":1}}`, map[string]string{"a": "b", "c": `{"d":1}`}},
		{`{broken json a=1`, map[string]string{"a": "1"}},
	}
	for _, tt := range tests {
		if got := ExtractFields(tt.raw); !maps.Equal(got, tt.want) {
			t.Errorf("ExtractFields(%q) = %v, want %v", tt.raw, got, tt.want)
		}
	}
}
