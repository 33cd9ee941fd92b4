package server_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dockyard/dockyard/internal/access"
	"github.com/dockyard/dockyard/internal/client"
	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/server/servertest"
	"github.com/dockyard/dockyard/internal/wire"
)

// TestSearchAPI runs the search API's cases on one server, whose row limit
// leaves room for the cancellation case's ten million rows.
func TestSearchAPI(t *testing.T) {
	cfg := servertest.Config(t.TempDir())
	cfg.Search.MaxRows = 50_000_000
	h := servertest.StartConfig(t, cfg)
	for name, f := range map[string]func(*testing.T, *servertest.Harness){
		"StreamsNDJSONFrames": testStreamsNDJSONFrames,
		"DoneWhenStats":       testDoneWhenStats,
		"Errors":              testErrors,
		"InternalIndexByRole": testInternalIndexByRole,
		"Cancel":              testCancel,
		"Audited":             testAudited,
		"Lookups":             testLookups,
	} {
		t.Run(name, func(t *testing.T) { f(t, h) })
	}
}

func testStreamsNDJSONFrames(t *testing.T, h *servertest.Harness) {
	ctx := context.Background()
	c := h.User("ann", access.RoleUser)

	resp, err := c.Raw(ctx, "POST", "/v1/search", strings.NewReader(`{"search": "| makeresults count=5 | streamstats count as i | eval s = i % 3 | table i s"}`), "application/json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "application/x-ndjson" {
		t.Errorf("content type %q", ct)
	}
	var rows []wire.Row
	var done *wire.SearchDone
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		var f wire.SearchFrame
		if err := json.Unmarshal(sc.Bytes(), &f); err != nil {
			t.Fatalf("frame %q: %v", sc.Text(), err)
		}
		switch {
		case f.Row != nil:
			rows = append(rows, *f.Row)
		case f.Done != nil:
			done = f.Done
		case f.Error != nil:
			t.Fatalf("error frame: %+v", f.Error)
		}
	}
	if done == nil || done.Rows != 5 || len(rows) != 5 {
		t.Fatalf("done %+v, %d rows", done, len(rows))
	}
	// Field order survives the wire.
	if got := rows[3]; len(got) != 2 || got[0].Name != "i" || got[0].Value != "4" || got[1].Name != "s" || got[1].Value != "1" {
		t.Errorf("row 4: %+v", got)
	}
	if strings.Join(done.Fields, ",") != "i,s" {
		t.Errorf("fields %v", done.Fields)
	}
	// Escapes and non-ASCII text survive the fast paths of both ends.
	res, err := c.SearchAll(ctx, `| makeresults | eval q = "say \"hi\"\tthere é ☃ \\ </b>", n = 1.5 | table q n`, "")
	if err != nil {
		t.Fatal(err)
	}
	if q, _ := res.Results[0].Get("q"); q != "say \"hi\"\tthere é ☃ \\ </b>" {
		t.Errorf("escaped value: %q", q)
	}
	// _time is epoch seconds in the pipeline and an ISO time in results.
	res, err = c.SearchAll(ctx, `| makeresults | eval t2 = _time + 0 | eval _time = 1795670459.742 | table _time t2`, "")
	if err != nil {
		t.Fatal(err)
	}
	if tm, _ := res.Results[0].Get("_time"); tm != "2026-11-26T05:20:59.742Z" {
		t.Errorf("_time in results = %q, want 2026-11-26T05:20:59.742Z", tm)
	}
	if t2, _ := res.Results[0].Get("t2"); strings.ContainsAny(t2, "e:") || t2 == "" {
		t.Errorf("a number computed from _time = %q, want plain epoch seconds", t2)
	}
}

func TestWireRowJSON(t *testing.T) {
	for in, want := range map[string]string{
		`{"b":"2","a":"1"}`:                         `b=2 a=1`,
		` { "b" : "x\"y" , "a":"\u00e9" } `:         `b=x"y a=é`,
		`{"n":1.5,"t":true,"z":null,"m":["a","b"]}`: "n=1.5 t=true z= m=a\nb",
		`{}`: ``,
	} {
		var r wire.Row
		if err := json.Unmarshal([]byte(in), &r); err != nil {
			t.Errorf("%s: %v", in, err)
			continue
		}
		var got []string
		for _, f := range r {
			got = append(got, f.Name+"="+f.Value)
		}
		if strings.Join(got, " ") != want {
			t.Errorf("%s: got %q, want %q", in, strings.Join(got, " "), want)
		}
		b, _ := json.Marshal(r)
		var back wire.Row
		if err := json.Unmarshal(b, &back); err != nil || len(back) != len(r) {
			t.Errorf("%s: round trip %s: %v", in, b, err)
		}
	}
	for _, bad := range []string{`[1]`, `{"a":"1"`, `{"a" "1"}`, `"x"`} {
		var r wire.Row
		if err := json.Unmarshal([]byte(bad), &r); err == nil {
			t.Errorf("%s: accepted as %v", bad, r)
		}
	}
}

func testDoneWhenStats(t *testing.T, h *servertest.Harness) {
	res, err := h.Admin.SearchAll(context.Background(), "| makeresults count=10 | streamstats count as i | eval s = i % 3 | stats count by s", "")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range res.Results {
		s, _ := r.Get("s")
		n, _ := r.Get("count")
		got = append(got, s+":"+n)
	}
	if strings.Join(got, " ") != "0:3 1:4 2:3" {
		t.Fatalf("got %v", got)
	}
}

func testErrors(t *testing.T, h *servertest.Harness) {
	ctx := context.Background()
	// A syntax error is a 400 before anything streams, naming line and column.
	_, err := h.Admin.SearchAll(ctx, "| makeresults count=3\n| eval x = (1 +", "")
	if !errdefs.IsInvalid(err) || !strings.Contains(err.Error(), "line 2, column") {
		t.Errorf("syntax error: %v", err)
	}
	_, err = h.Admin.SearchAll(ctx, "| makeresults | frobnicate", "")
	if !errdefs.IsInvalid(err) || !strings.Contains(err.Error(), "frobnicate") {
		t.Errorf("unknown command: %v", err)
	}
	_, err = h.Admin.SearchAll(ctx, "  ", "")
	if !errdefs.IsInvalid(err) {
		t.Errorf("empty search: %v", err)
	}
	_, err = h.Admin.SearchAll(ctx, "| inputlookup nosuch.csv", "")
	if !errdefs.IsNotFound(err) || !strings.Contains(err.Error(), "lookup not found") {
		t.Errorf("missing lookup: %v", err)
	}
}

func TestSearchRowLimitNamesTheSetting(t *testing.T) {
	cfg := servertest.Config(t.TempDir())
	cfg.Search.MaxRows = 100
	h := servertest.StartConfig(t, cfg)
	ctx := context.Background()
	if _, err := h.Admin.SearchAll(ctx, "| makeresults count=100 | stats count", ""); err != nil {
		t.Fatalf("at the limit: %v", err)
	}
	_, err := h.Admin.SearchAll(ctx, "| makeresults count=101", "")
	if !errdefs.IsLimit(err) || !strings.Contains(err.Error(), "search.max_rows") {
		t.Fatalf("over the limit: %v", err)
	}
	// A limit hit after rows have streamed ends the stream with an error
	// frame of the same kind.
	_, err = h.Admin.Search(ctx, "| makeresults count=5000", "", client.SearchHandler{})
	if !errdefs.IsLimit(err) || !strings.Contains(err.Error(), "search.max_rows") {
		t.Fatalf("over the limit after streaming: %v", err)
	}
}

func testInternalIndexByRole(t *testing.T, h *servertest.Harness) {
	ctx := context.Background()
	plain := h.User("plain", access.RoleUser) // its login is audited
	res, err := h.Admin.SearchAll(ctx, "index=_internal login", "")
	if err != nil {
		t.Fatal(err)
	}
	logins := 0
	for _, r := range res.Results {
		if a, _ := r.Get("action"); a == "login" {
			logins++
		}
	}
	if logins == 0 {
		t.Fatalf("admin found no login audit events in %d rows", len(res.Results))
	}
	res, err = plain.SearchAll(ctx, "index=_internal login", "")
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Results) != 0 {
		t.Fatalf("a plain user read %d _internal events", len(res.Results))
	}
}

// TestSearchCancel closes the request after the first rows of a search that
// would run for a long time, and checks through the audit trail that the
// server-side search ended early.
func testCancel(t *testing.T, h *servertest.Harness) {
	c := h.User("canceller", access.RoleUser)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	const count = 10_000_000
	stop := errors.New("enough")
	got := 0
	_, err := c.Search(ctx, "| makeresults count="+strconv.Itoa(count)+" | eval x = 1", "", client.SearchHandler{Row: func(wire.Row) error {
		got++
		if got == 100 {
			cancel()
			return stop
		}
		return nil
	}})
	if !errors.Is(err, stop) {
		t.Fatalf("search: %v", err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		res, err := h.Admin.SearchAll(context.Background(), `index=_internal action=search user=canceller | table result rows message`, "")
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Results) > 0 {
			r := res.Results[0]
			result, _ := r.Get("result")
			rows, _ := r.Get("rows")
			msg, _ := r.Get("message")
			n, _ := strconv.Atoi(rows)
			t.Logf("audited: %v", r)
			if result != "failure" || n >= count || !strings.Contains(msg, "cancelled") {
				t.Fatalf("audit of the cancelled search: %v", r)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the cancelled search was never audited: it is still running")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func testAudited(t *testing.T, h *servertest.Harness) {
	ctx := context.Background()
	c := h.User("auditee", access.RoleUser)
	long := "| makeresults count=2 | eval note = \"" + strings.Repeat("x", 10_000) + "\" | fields - note"
	if _, err := c.SearchAll(ctx, long, ""); err != nil {
		t.Fatal(err)
	}
	res, err := h.Admin.SearchAll(ctx, `index=_internal action=search user=auditee | table result rows search`, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Results) != 1 {
		t.Fatalf("want one audited search, got %v", res.Results)
	}
	r := res.Results[0]
	result, _ := r.Get("result")
	rows, _ := r.Get("rows")
	src, _ := r.Get("search")
	if result != "success" || rows != "2" || !strings.HasPrefix(src, "| makeresults count=2") || len(src) > 5000 || !strings.Contains(src, "bytes in all") {
		t.Fatalf("audit event: result %q, rows %q, search %d bytes: %.80q", result, rows, len(src), src)
	}
}

const lookupCSV = "a,b,c\n1,10,x\n3,20,y\n4,40,y\n5,7,x\n"

func testLookups(t *testing.T, h *servertest.Harness) {
	ctx := context.Background()
	alice := h.User("alice", access.RoleUser, access.RolePower) // power: shares into search
	bob := h.User("bob", access.RoleUser)

	_, err := alice.UploadLookup(ctx, "bad.csv", strings.NewReader("a,b\n1,2\n3\n"))
	if !errdefs.IsInvalid(err) || !strings.Contains(err.Error(), "line 3") {
		t.Fatalf("malformed CSV: %v", err)
	}
	_, err = alice.UploadLookup(ctx, "../x.csv", strings.NewReader(lookupCSV))
	if !errdefs.IsInvalid(err) {
		t.Fatalf("bad name: %v", err)
	}
	l, err := alice.UploadLookup(ctx, "x.csv", strings.NewReader(lookupCSV))
	if err != nil {
		t.Fatal(err)
	}
	if l.Owner != "alice" || l.Sharing != "user" || l.Size != int64(len(lookupCSV)) || !l.Perms.Share {
		t.Fatalf("uploaded: %+v", l)
	}
	const spl = "| inputlookup x.csv | where a > 2 | stats avg(b) by c"
	res, err := alice.SearchAll(ctx, spl, "")
	if err != nil {
		t.Fatal(err)
	}
	if got := fmtRows(res.Results, "c", "avg(b)"); got != "x=7 y=30" {
		t.Fatalf("owner's search: %s", got)
	}
	_, err = bob.SearchAll(ctx, spl, "")
	if !errdefs.IsNotFound(err) || !strings.Contains(err.Error(), "lookup not found: x.csv") {
		t.Fatalf("bob without read permission: %v", err)
	}
	if _, err := bob.Lookup(ctx, "x.csv"); !errdefs.IsNotFound(err) {
		t.Fatalf("bob show: %v", err)
	}
	if ls, _ := bob.Lookups(ctx); len(ls) != 0 {
		t.Fatalf("bob lists %v", ls)
	}
	rc, err := alice.LookupContent(ctx, "x.csv")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(rc)
	rc.Close()
	if string(b) != lookupCSV {
		t.Fatalf("download: %q", b)
	}
	if _, err := alice.ShareLookup(ctx, "x.csv", wire.LookupShare{Sharing: "app", Read: []string{"user"}}); err != nil {
		t.Fatal(err)
	}
	if res, err := bob.SearchAll(ctx, spl, ""); err != nil || len(res.Results) != 2 {
		t.Fatalf("bob after sharing: %v %v", res, err)
	}
	if err := bob.DeleteLookup(ctx, "x.csv"); !errdefs.IsPermissionDenied(err) {
		t.Fatalf("bob delete: %v", err)
	}
	if err := alice.DeleteLookup(ctx, "x.csv"); err != nil {
		t.Fatal(err)
	}
	if _, err := alice.Lookup(ctx, "x.csv"); !errdefs.IsNotFound(err) {
		t.Fatalf("after delete: %v", err)
	}
}

// fmtRows renders rows as "k=v ..." with the values of two fields.
func fmtRows(rows []wire.Row, k, v string) string {
	var out []string
	for _, r := range rows {
		a, _ := r.Get(k)
		b, _ := r.Get(v)
		out = append(out, a+"="+b)
	}
	return strings.Join(out, " ")
}

// BenchmarkSearchStream measures result rows streamed end to end over
// HTTPS: makeresults → eval on the server, NDJSON frames decoded by the
// client.
func BenchmarkSearchStream(b *testing.B) {
	h := servertest.Start(b)
	ctx := context.Background()
	const n = 200_000
	spl := "| makeresults count=" + strconv.Itoa(n) + " | streamstats count as i | eval x = i * 2, s = \"row \" . i"
	b.ResetTimer()
	start := time.Now()
	for b.Loop() {
		rows := 0
		_, err := h.Admin.Search(ctx, spl, "", client.SearchHandler{Row: func(wire.Row) error { rows++; return nil }})
		if err != nil || rows != n {
			b.Fatalf("%d rows: %v", rows, err)
		}
	}
	b.ReportMetric(float64(n*b.N)/time.Since(start).Seconds(), "rows/s")
}
