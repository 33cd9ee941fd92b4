package storetest

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/store"
)

// testEvents covers store.EventStore: indexes, events and full-text search,
// HEC tokens and the audit chain.
func testEvents(t *testing.T, open Opener) {
	get := func(t *testing.T) store.EventStore { return open(t) }
	t.Run("indexes", func(t *testing.T) { testIndexes(t, get(t)) })
	t.Run("search", func(t *testing.T) { testSearchEvents(t, get(t)) })
	t.Run("hec_tokens", func(t *testing.T) { testHECTokens(t, get(t)) })
	t.Run("audit", func(t *testing.T) { testAuditChain(t, get(t)) })
}

func indexNames(l []store.IndexInfo) []string {
	var out []string
	for _, ix := range l {
		out = append(out, ix.Name)
	}
	return out
}

func testIndexes(t *testing.T, s store.EventStore) {
	ctx := context.Background()
	l, err := s.ListIndexes(ctx)
	if err != nil || !slices.Equal(indexNames(l), []string{"_internal", "main"}) {
		t.Fatalf("ListIndexes on a new store = %v, %v; want [_internal main]", indexNames(l), err)
	}
	if !l[0].Builtin || !l[1].Builtin {
		t.Errorf("built-in indexes not marked built in: %+v", l)
	}
	if err := s.CreateIndex(ctx, store.IndexInfo{Name: "web", Created: t0}); err != nil {
		t.Fatalf("CreateIndex: %v", err)
	}
	if err := s.CreateIndex(ctx, store.IndexInfo{Name: "web"}); !errdefs.IsConflict(err) {
		t.Fatalf("CreateIndex(duplicate) error = %v, want ErrConflict", err)
	}
	ix, err := s.GetIndex(ctx, "web")
	if err != nil || ix.Builtin || !ix.Created.Equal(t0) || ix.Events != 0 {
		t.Fatalf("GetIndex = %+v, %v", ix, err)
	}
	if _, err := s.GetIndex(ctx, "nope"); !errdefs.IsNotFound(err) {
		t.Fatalf("GetIndex(missing) error = %v, want ErrNotFound", err)
	}
	evs := []store.EventRecord{{Index: "web", Time: t0, Raw: "a"}, {Index: "web", Time: t0, Raw: "b"}, {Index: "main", Time: t0, Raw: "c"}}
	if err := s.InsertEvents(ctx, evs); err != nil {
		t.Fatalf("InsertEvents: %v", err)
	}
	if ix, _ := s.GetIndex(ctx, "web"); ix.Events != 2 {
		t.Errorf("GetIndex(web).Events = %d, want 2", ix.Events)
	}
	if err := s.DeleteIndex(ctx, "main"); !errdefs.IsInvalid(err) {
		t.Errorf("DeleteIndex(main) error = %v, want ErrInvalid", err)
	}
	if err := s.DeleteIndex(ctx, "nope"); !errdefs.IsNotFound(err) {
		t.Errorf("DeleteIndex(missing) error = %v, want ErrNotFound", err)
	}
	if err := s.DeleteIndex(ctx, "web"); err != nil {
		t.Fatalf("DeleteIndex: %v", err)
	}
	if err := s.CreateIndex(ctx, store.IndexInfo{Name: "web"}); err != nil {
		t.Fatalf("CreateIndex after delete: %v", err)
	}
	if n := len(collect(t, s, store.EventQuery{Indexes: []string{"web"}})); n != 0 {
		t.Errorf("a re-created index holds %d old events, want 0", n)
	}
}

func collect(t *testing.T, s store.EventStore, q store.EventQuery) []store.EventRecord {
	t.Helper()
	var out []store.EventRecord
	for e, err := range s.SearchEvents(context.Background(), q) {
		if err != nil {
			t.Fatalf("SearchEvents(%+v): %v", q, err)
		}
		out = append(out, e)
	}
	return out
}

func raws(l []store.EventRecord) []string {
	var out []string
	for _, e := range l {
		out = append(out, e.Raw)
	}
	return out
}

func testSearchEvents(t *testing.T, s store.EventStore) {
	ctx := context.Background()
	if err := s.CreateIndex(ctx, store.IndexInfo{Name: "web"}); err != nil {
		t.Fatal(err)
	}
	at := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
	evs := []store.EventRecord{
		{Index: "main", Time: at(0), Host: "h1", Source: "s", Sourcetype: "st", Raw: "action=model.fit component=mltk-container into=app:MyModel user=alice"},
		{Index: "main", Time: at(1), Raw: "GET /index.html status=200 Hello World"},
		{Index: "main", Time: at(2), Raw: "hello there, world", Fields: map[string]string{"team": "Platform"}},
		{Index: "web", Time: at(3), Raw: "hello from web"},
		{Index: "main", Time: at(4), Raw: "modelling is fun; into=app:OtherModel"},
	}
	if err := s.InsertEvents(ctx, evs); err != nil {
		t.Fatalf("InsertEvents: %v", err)
	}
	// All or nothing: a batch naming a missing index stores nothing.
	bad := []store.EventRecord{{Index: "main", Time: at(9), Raw: "should not stay"}, {Index: "nope", Raw: "x"}}
	if err := s.InsertEvents(ctx, bad); !errdefs.IsNotFound(err) {
		t.Fatalf("InsertEvents(missing index) error = %v, want ErrNotFound", err)
	}
	main := []string{"main"}
	got := collect(t, s, store.EventQuery{Indexes: main})
	if len(got) != 4 {
		t.Fatalf("main holds %v, want 4 events (the failed batch must leave nothing)", raws(got))
	}
	first := got[0]
	if first.ID == 0 || first.Host != "h1" || first.Source != "s" || first.Sourcetype != "st" || !first.Time.Equal(at(0)) || first.Time.Location() != time.UTC {
		t.Errorf("first event = %+v", first)
	}
	if got[2].Fields["team"] != "Platform" {
		t.Errorf("fields not kept: %+v", got[2])
	}
	tests := []struct {
		name string
		q    store.EventQuery
		want []string // raws, in order; every one must be present, extra ones allowed only where listed
	}{
		{"term case-insensitive", store.EventQuery{Indexes: main, Terms: []string{"HELLO"}},
			[]string{"GET /index.html status=200 Hello World", "hello there, world"}},
		{"punctuated term", store.EventQuery{Indexes: main, Terms: []string{"mltk-container", "into=app:MyModel"}},
			[]string{evs[0].Raw}},
		{"phrase", store.EventQuery{Indexes: main, Terms: []string{"hello world"}},
			[]string{"GET /index.html status=200 Hello World"}},
		{"indexed field value", store.EventQuery{Indexes: main, Terms: []string{"platform"}},
			[]string{"hello there, world"}},
		{"prefix wildcard", store.EventQuery{Indexes: main, Terms: []string{"modell*"}},
			[]string{"modelling is fun; into=app:OtherModel"}},
		{"two indexes, reverse", store.EventQuery{Indexes: []string{"main", "web"}, Terms: []string{"hello"}, Reverse: true},
			[]string{"hello from web", "hello there, world", "GET /index.html status=200 Hello World"}},
		{"time range", store.EventQuery{Indexes: main, Earliest: at(1), Latest: at(4)},
			[]string{"GET /index.html status=200 Hello World", "hello there, world"}},
		{"limit newest", store.EventQuery{Indexes: main, Reverse: true, Limit: 1},
			[]string{"modelling is fun; into=app:OtherModel"}},
		{"no match", store.EventQuery{Indexes: main, Terms: []string{"absent"}}, nil},
		{"no index", store.EventQuery{Terms: []string{"hello"}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := raws(collect(t, s, tt.q)); !slices.Equal(got, tt.want) {
				t.Errorf("got %q\nwant %q", got, tt.want)
			}
		})
	}
}

func testHECTokens(t *testing.T, s store.EventStore) {
	ctx := context.Background()
	tok := store.HECToken{Name: "ci", Hash: "abc123", Last4: "9f3e", Indexes: []string{"main", "web"}, DefaultIndex: "web", Creator: "admin", Created: t0}
	if err := s.CreateHECToken(ctx, tok); err != nil {
		t.Fatalf("CreateHECToken: %v", err)
	}
	if err := s.CreateHECToken(ctx, tok); !errdefs.IsConflict(err) {
		t.Fatalf("CreateHECToken(duplicate) error = %v, want ErrConflict", err)
	}
	got, err := s.GetHECTokenByHash(ctx, "abc123")
	if err != nil || got.Name != "ci" || got.Last4 != "9f3e" || !slices.Equal(got.Indexes, tok.Indexes) ||
		got.DefaultIndex != "web" || got.Creator != "admin" || !got.Created.Equal(t0) || got.Disabled {
		t.Fatalf("GetHECTokenByHash = %+v, %v", got, err)
	}
	if _, err := s.GetHECTokenByHash(ctx, "nope"); !errdefs.IsNotFound(err) {
		t.Fatalf("GetHECTokenByHash(missing) error = %v, want ErrNotFound", err)
	}
	if err := s.SetHECTokenDisabled(ctx, "ci", true); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.GetHECTokenByHash(ctx, "abc123"); !got.Disabled {
		t.Errorf("token not disabled")
	}
	if err := s.SetHECTokenDisabled(ctx, "nope", true); !errdefs.IsNotFound(err) {
		t.Errorf("SetHECTokenDisabled(missing) error = %v, want ErrNotFound", err)
	}
	if err := s.CreateHECToken(ctx, store.HECToken{Name: "a", Hash: "h2", Indexes: []string{"main"}}); err != nil {
		t.Fatal(err)
	}
	l, err := s.ListHECTokens(ctx)
	if err != nil || len(l) != 2 || l[0].Name != "a" || l[1].Name != "ci" {
		t.Fatalf("ListHECTokens = %+v, %v", l, err)
	}
	if err := s.DeleteHECToken(ctx, "ci"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteHECToken(ctx, "ci"); !errdefs.IsNotFound(err) {
		t.Errorf("DeleteHECToken(again) error = %v, want ErrNotFound", err)
	}
}

func testAuditChain(t *testing.T, s store.EventStore) {
	ctx := context.Background()
	if _, err := s.AuditHead(ctx); !errdefs.IsNotFound(err) {
		t.Fatalf("AuditHead(empty) error = %v, want ErrNotFound", err)
	}
	for i := int64(1); i <= 3; i++ {
		rec := store.AuditRecord{Seq: i, PrevHash: "p", Hash: "h", MAC: "m" + string(rune('0'+i)), Body: `{"seq":1}`}
		ev := store.EventRecord{Index: "_internal", Time: t0, Sourcetype: "dockyard:audit", Raw: "action=x seq=" + string(rune('0'+i))}
		if err := s.AppendAudit(ctx, rec, ev); err != nil {
			t.Fatalf("AppendAudit(%d): %v", i, err)
		}
	}
	if err := s.AppendAudit(ctx, store.AuditRecord{Seq: 2}, store.EventRecord{Index: "_internal", Raw: "dup"}); !errdefs.IsConflict(err) {
		t.Fatalf("AppendAudit(duplicate seq) error = %v, want ErrConflict", err)
	}
	if n := len(collect(t, s, store.EventQuery{Indexes: []string{"_internal"}, Terms: []string{"dup"}})); n != 0 {
		t.Errorf("a refused AppendAudit left its event in _internal")
	}
	head, err := s.AuditHead(ctx)
	if err != nil || head.Seq != 3 || head.MAC != "m3" {
		t.Fatalf("AuditHead = %+v, %v", head, err)
	}
	var seqs []int64
	for r, err := range s.AuditRecords(ctx, 2) {
		if err != nil {
			t.Fatal(err)
		}
		if r.IndexedRaw != "action=x seq="+string(rune('0'+r.Seq)) || r.MAC != "m"+string(rune('0'+r.Seq)) {
			t.Errorf("record %d IndexedRaw = %q", r.Seq, r.IndexedRaw)
		}
		seqs = append(seqs, r.Seq)
	}
	if !slices.Equal(seqs, []int64{2, 3}) {
		t.Errorf("AuditRecords(from 2) seqs = %v", seqs)
	}
	cps := []store.AuditCheckpoint{{Count: 2, Head: "h", Time: t0, KeyID: "k", Signature: "sig"}, {Count: 3, Head: "h3", Time: t0.Add(time.Second), KeyID: "k", Signature: "sig2", KeyedFrom: 2}}
	for _, cp := range cps {
		if err := s.AddAuditCheckpoint(ctx, cp); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.ListAuditCheckpoints(ctx)
	if err != nil || len(got) != 2 || got[1].Count != 3 || got[1].Head != "h3" || got[1].Signature != "sig2" || got[1].KeyedFrom != 2 || got[0].KeyedFrom != 0 || !got[0].Time.Equal(t0) {
		t.Fatalf("ListAuditCheckpoints = %+v, %v", got, err)
	}
}
