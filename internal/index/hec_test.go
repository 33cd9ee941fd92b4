package index

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dockyard/dockyard/internal/access"
	"github.com/dockyard/dockyard/internal/audit"
)

type hecFixture struct {
	svc          *Service
	srv          *httptest.Server
	rec          *audit.Memory
	tokA, tokOff string
	tokStar      string
	admin        context.Context
}

func newHECFixture(t *testing.T) *hecFixture {
	t.Helper()
	svc, db := newService(t)
	f := &hecFixture{svc: svc, rec: &audit.Memory{}, admin: as("admin", []string{"*"}, access.CapEditIndexes, access.CapReadAudit)}
	for _, ix := range []string{"a", "b"} {
		if _, err := svc.CreateIndex(f.admin, ix); err != nil {
			t.Fatal(err)
		}
	}
	mk := func(name string, ixs []string, def string) string {
		nt, err := svc.CreateHECToken(f.admin, name, ixs, def)
		if err != nil {
			t.Fatalf("CreateHECToken(%s): %v", name, err)
		}
		return nt.Token
	}
	f.tokA = mk("token-a", []string{"a"}, "")
	f.tokOff = mk("off", []string{"a"}, "a")
	f.tokStar = mk("star", []string{"*"}, "")
	if err := db.SetHECTokenDisabled(context.Background(), "off", true); err != nil {
		t.Fatal(err)
	}
	h, err := NewHEC(svc, HECOptions{MaxBodyBytes: 4096, Audit: f.rec})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/services/collector/", h)
	mux.Handle("/services/collector", h)
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

type hecResult struct {
	status int
	body   string
}

func (f *hecFixture) post(t *testing.T, path, auth, body string, hdr map[string]string) hecResult {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, f.srv.URL+path, strings.NewReader(body))
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return hecResult{resp.StatusCode, strings.TrimSpace(string(b))}
}

func TestHECProtocol(t *testing.T) {
	f := newHECFixture(t)
	splunk := func(tok string) string { return "Splunk " + tok }
	big := `{"event":"` + strings.Repeat("x", 5000) + `"}`
	tests := []struct {
		name, path, auth, body string
		hdr                    map[string]string
		status                 int
		want                   string
	}{
		{"single event", "/services/collector/event", splunk(f.tokA), `{"event":"hello single","time":1700000000.25,"host":"h1","fields":{"team":"ml"}}`, nil,
			200, `{"text":"Success","code":0}`},
		{"concatenated events", "/services/collector/event", splunk(f.tokA), `{"event":"first batch"} {"event":{"k":"v","n":1},"sourcetype":"json"}` + "\n" + `{"event":"third batch","time":"1700000001"}`, nil,
			200, `{"text":"Success","code":0}`},
		{"bare collector path", "/services/collector", splunk(f.tokA), `{"event":"bare path"}`, nil, 200, `{"text":"Success","code":0}`},
		{"versioned path", "/services/collector/event/1.0", splunk(f.tokA), `{"event":"versioned"}`, nil, 200, `{"text":"Success","code":0}`},
		{"basic auth", "/services/collector/event", "Basic " + base64.StdEncoding.EncodeToString([]byte("x:"+f.tokA)), `{"event":"via basic"}`, nil, 200, `{"text":"Success","code":0}`},
		{"basic auth without token", "/services/collector/event", "Basic eDo=" /* x: */, `{"event":"x"}`, nil, 401, `{"text":"Invalid authorization","code":3}`},
		{"no token", "/services/collector/event", "", `{"event":"x"}`, nil, 401, `{"text":"Token is required","code":2}`},
		{"query string token", "/services/collector/event?token=" + f.tokA, "", `{"event":"x"}`, nil, 400, `{"text":"Query string authorization is not enabled","code":16}`},
		{"wrong scheme", "/services/collector/event", "Bearer " + f.tokA, `{"event":"x"}`, nil, 401, `{"text":"Invalid authorization","code":3}`},
		{"unknown token", "/services/collector/event", splunk("00000000-0000-4000-8000-000000000000"), `{"event":"x"}`, nil, 403, `{"text":"Invalid token","code":4}`},
		{"disabled token", "/services/collector/event", splunk(f.tokOff), `{"event":"x"}`, nil, 403, `{"text":"Token disabled","code":1}`},
		{"no data", "/services/collector/event", splunk(f.tokA), "", nil, 400, `{"text":"No data","code":5}`},
		{"whitespace only", "/services/collector/event", splunk(f.tokA), " \n ", nil, 400, `{"text":"No data","code":5}`},
		{"bad json second event", "/services/collector/event", splunk(f.tokA), `{"event":"ok"} {"event":`, nil, 400, `{"text":"Invalid data format","code":6,"invalid-event-number":1}`},
		{"array body", "/services/collector/event", splunk(f.tokA), `[{"event":"x"}]`, nil, 400, `{"text":"Invalid data format","code":6,"invalid-event-number":0}`},
		{"bad time", "/services/collector/event", splunk(f.tokA), `{"event":"x","time":"yesterday"}`, nil, 400, `{"text":"Invalid data format","code":6,"invalid-event-number":0}`},
		{"host not a string", "/services/collector/event", splunk(f.tokA), `{"event":"x","host":7}`, nil, 400, `{"text":"Invalid data format","code":6,"invalid-event-number":0}`},
		{"index not allowed", "/services/collector/event", splunk(f.tokA), `{"event":"ok"}{"event":"x","index":"b"}`, nil, 400, `{"text":"Incorrect index","code":7,"invalid-event-number":1}`},
		{"index missing", "/services/collector/event", splunk(f.tokStar), `{"event":"x","index":"nope"}`, nil, 400, `{"text":"Incorrect index","code":7,"invalid-event-number":0}`},
		{"_internal never", "/services/collector/event", splunk(f.tokStar), `{"event":"x","index":"_internal"}`, nil, 400, `{"text":"Incorrect index","code":7,"invalid-event-number":0}`},
		{"event missing", "/services/collector/event", splunk(f.tokA), `{"event":"ok"}{"host":"h"}`, nil, 400, `{"text":"Event field is required","code":12,"invalid-event-number":1}`},
		{"event blank", "/services/collector/event", splunk(f.tokA), `{"event":"  "}`, nil, 400, `{"text":"Event field cannot be blank","code":13,"invalid-event-number":0}`},
		{"event null", "/services/collector/event", splunk(f.tokA), `{"event":null}`, nil, 400, `{"text":"Event field cannot be blank","code":13,"invalid-event-number":0}`},
		{"nested fields", "/services/collector/event", splunk(f.tokA), `{"event":"x","fields":{"a":{"b":1}}}`, nil, 400, `{"text":"Error in handling indexed fields","code":15,"invalid-event-number":0}`},
		{"_raw in an event object", "/services/collector/event", splunk(f.tokA), `{"event":"ok"}{"event":{"_raw":"forged","msg":"x"}}`, nil, 400,
			`{"text":"Invalid data format: field \"_raw\" in \"event\" starts with \"_\", which is reserved for the event's own fields (_raw, _time, ...): rename it","code":6,"invalid-event-number":1}`},
		{"_ fields in fields", "/services/collector/event", splunk(f.tokA), `{"event":"x","fields":{"team":"ml","_time":"1","_raw":"y"}}`, nil, 400,
			`{"text":"Invalid data format: field \"_raw\", \"_time\" in \"fields\" starts with \"_\", which is reserved for the event's own fields (_raw, _time, ...): rename it","code":6,"invalid-event-number":0}`},
		{"_ deeper in an event object is data", "/services/collector/event", splunk(f.tokA), `{"event":{"k":{"_raw":"nested"}}}`, nil, 200, `{"text":"Success","code":0}`},
		{"too large", "/services/collector/event", splunk(f.tokA), big, nil, 413, `{"text":"Content too large (maximum is 4096 bytes): send smaller batches","code":6}`},
		{"raw", "/services/collector/raw?sourcetype=rawtype&host=rh", splunk(f.tokA), "raw line one\r\n\nraw line two\n", nil, 200, `{"text":"Success","code":0}`},
		{"raw with channel", "/services/collector/raw?channel=0aeeac95-ac74-4aa9-b30d-6c4c0ac581ba", splunk(f.tokA), "raw with channel", nil, 200, `{"text":"Success","code":0}`},
		{"raw wrong index", "/services/collector/raw?index=b", splunk(f.tokA), "x", nil, 400, `{"text":"Incorrect index","code":7}`},
		{"raw empty", "/services/collector/raw", splunk(f.tokA), "\n\n", nil, 400, `{"text":"No data","code":5}`},
		{"ack", "/services/collector/ack", splunk(f.tokA), `{"acks":[0]}`, nil, 400, `{"text":"ACK is disabled","code":14}`},
		{"nothing stored from bad batches", "/services/collector/event", splunk(f.tokStar), `{"event":"star to b","index":"b"}`, nil, 200, `{"text":"Success","code":0}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := f.post(t, tt.path, tt.auth, tt.body, tt.hdr)
			if got.status != tt.status || got.body != tt.want {
				t.Errorf("got %d %s\nwant %d %s", got.status, got.body, tt.status, tt.want)
			}
		})
	}
	// Gzip bodies are accepted.
	var zb bytes.Buffer
	zw := gzip.NewWriter(&zb)
	zw.Write([]byte(`{"event":"zipped event"}`))
	zw.Close()
	if got := f.post(t, "/services/collector/event", splunk(f.tokA), zb.String(), map[string]string{"Content-Encoding": "gzip"}); got.status != 200 {
		t.Errorf("gzip: %d %s", got.status, got.body)
	}

	// What was accepted is searchable, with its metadata; nothing from a
	// refused batch was stored ("ok" events came before a bad one).
	reader := as("reader", []string{"a", "b"})
	got := search(t, f.svc, reader, Query{Indexes: []string{"a"}})
	want := []string{`{"k":{"_raw":"nested"}}`, "hello single", "first batch", `{"k":"v","n":1}`, "third batch", "bare path", "versioned", "raw line one", "raw line two", "raw with channel", "zipped event", "via basic"}
	gotRaw := rawsOf(got)
	slices.Sort(gotRaw)
	slices.Sort(want)
	if !slices.Equal(gotRaw, want) {
		t.Fatalf("index a holds %q\nwant %q", gotRaw, want)
	}
	byRaw := map[string]Event{}
	for _, e := range got {
		byRaw[e.Raw] = e
	}
	single := byRaw["hello single"]
	if !single.Time.Equal(time.Unix(1700000000, 250000000)) || single.Host != "h1" || single.Source != "http:token-a" ||
		single.Sourcetype != "httpevent" || single.Fields["team"] != "ml" {
		t.Errorf("single event = %+v", single)
	}
	if e := byRaw[`{"k":"v","n":1}`]; e.Sourcetype != "json" || e.Fields["k"] != "v" {
		t.Errorf("JSON event = %+v", e)
	}
	if e := byRaw["raw line two"]; e.Sourcetype != "rawtype" || e.Host != "rh" {
		t.Errorf("raw event = %+v", e)
	}
	if got := search(t, f.svc, reader, Query{Indexes: []string{"b"}}); len(got) != 1 || got[0].Raw != "star to b" {
		t.Errorf("index b holds %q: a token for index a wrote to b, or star failed", rawsOf(got))
	}
	if got := search(t, f.svc, f.admin, Query{Indexes: []string{"_internal"}}); len(got) != 0 {
		t.Errorf("_internal holds %q, HEC must never write it", rawsOf(got))
	}
	// Refusals were audited, without the token.
	var denied int
	for _, e := range f.rec.Events() {
		b, _ := json.Marshal(e)
		for _, secret := range []string{f.tokA, f.tokOff, f.tokStar} {
			if strings.Contains(string(b), secret) {
				t.Errorf("audit event holds a token: %s", b)
			}
		}
		if e.Result == audit.ResultDenied && e.Action == "hec.ingest" {
			denied++
		}
	}
	if denied < 8 {
		t.Errorf("%d refused HEC requests audited, want at least 8", denied)
	}
}

func TestHECHealthAndMethods(t *testing.T) {
	f := newHECFixture(t)
	resp, err := http.Get(f.srv.URL + "/services/collector/health")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || strings.TrimSpace(string(b)) != `{"text":"HEC is healthy","code":17}` {
		t.Errorf("health = %d %s", resp.StatusCode, b)
	}
	resp, err = http.Get(f.srv.URL + "/services/collector/event")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET event = %d, want 405", resp.StatusCode)
	}
}

func TestHECTokens(t *testing.T) {
	f := newHECFixture(t)
	l, err := f.svc.ListHECTokens(f.admin)
	if err != nil || len(l) != 3 {
		t.Fatalf("ListHECTokens = %+v, %v", l, err)
	}
	b, _ := json.Marshal(l)
	for _, secret := range []string{f.tokA, f.tokOff, f.tokStar} {
		if strings.Contains(string(b), secret) || strings.Contains(string(b), HashHECToken(secret)) {
			t.Errorf("token list shows a secret or its hash: %s", b)
		}
	}
	if l[2].Name != "token-a" || l[2].Last4 != f.tokA[len(f.tokA)-4:] || l[2].Creator != "admin" || !slices.Equal(l[2].Indexes, []string{"a"}) {
		t.Errorf("token-a listed as %+v", l[2])
	}
	bad := []struct {
		name string
		ixs  []string
		def  string
	}{
		{"", []string{"a"}, ""},
		{"no-index", nil, ""},
		{"internal", []string{"_internal"}, ""},
		{"missing", []string{"nope"}, ""},
		{"bad-default", []string{"a"}, "b"},
		{"token-a", []string{"a"}, ""}, // duplicate
	}
	for _, c := range bad {
		if _, err := f.svc.CreateHECToken(f.admin, c.name, c.ixs, c.def); err == nil {
			t.Errorf("CreateHECToken(%q, %v, %q) succeeded", c.name, c.ixs, c.def)
		}
	}
	if err := f.svc.DeleteHECToken(f.admin, "token-a"); err != nil {
		t.Fatal(err)
	}
	if got := f.post(t, "/services/collector/event", "Splunk "+f.tokA, `{"event":"x"}`, nil); got.status != 403 {
		t.Errorf("deleted token still works: %d %s", got.status, got.body)
	}
}
