package api_test

import (
	"context"
	"encoding/json"

	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/dockyard/dockyard/internal/access"
	"github.com/dockyard/dockyard/internal/api"
	"github.com/dockyard/dockyard/internal/audit"
	"github.com/dockyard/dockyard/internal/index"
	"github.com/dockyard/dockyard/internal/search"
	"github.com/dockyard/dockyard/internal/secrets"
	"github.com/dockyard/dockyard/internal/store/sqlite"
	"github.com/dockyard/dockyard/internal/telemetry"
	"github.com/dockyard/dockyard/internal/telemetry/telemetrytest"
	"github.com/dockyard/dockyard/internal/wire"
)

// failingRecorder cannot record (a full disk, a broken store).
type failingRecorder struct{}

func (failingRecorder) Record(context.Context, audit.Event) error {
	return fmt.Errorf("append audit event: %w", syscall.ENOSPC)
}

type fixture struct {
	srv   *httptest.Server
	db    *sqlite.DB
	log   *telemetrytest.LogBuffer
	token string
	envs  atomic.Int32
	obs   *telemetry.Observability
}

func start(t *testing.T, rec audit.Recorder) *fixture {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "dockyard.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	buf := &telemetrytest.LogBuffer{}
	log := slog.New(slog.NewTextHandler(buf, nil))
	acc, err := access.NewService(db, access.Options{SessionTTL: time.Hour, Password: access.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32},
		Throttle: access.ThrottleOptions{MaxFailures: 5, Window: time.Minute, BaseDelay: time.Second, MaxDelay: time.Minute}}, log)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := acc.Bootstrap(ctx, "admin-password-1"); err != nil {
		t.Fatal(err)
	}
	p, err := acc.EffectivePrincipal(ctx, access.AdminUser, "")
	if err != nil {
		t.Fatal(err)
	}
	secret, _, err := acc.CreateAPIToken(ctx, p, "t", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{db: db, log: buf, token: secret}
	a := &api.API{Access: acc, Audit: api.FailRequests(rec), Log: log}
	service := api.FailRequests(rec) // what a service that records its own events holds
	a.Extra = []api.Route{
		{Method: "GET", Pattern: "/v1/test/boom", Cap: api.Authenticated, Handle: func(w http.ResponseWriter, r *http.Request) error {
			return fmt.Errorf("import model %q: %w", "m", fmt.Errorf("write blob: %w", syscall.EIO))
		}},
		{Method: "GET", Pattern: "/v1/test/panic", Cap: api.Authenticated, Handle: func(w http.ResponseWriter, r *http.Request) error {
			var m map[string]int
			//lint:ignore SA5000 the bug is deliberate: TestPanicIsA500Logged checks that a runtime panic's message reaches the log
			m["x"] = 1 // a bug
			return nil
		}},
		{Method: "POST", Pattern: "/v1/test/service", Cap: api.Authenticated, Handle: func(w http.ResponseWriter, r *http.Request) error {
			// A service records its event and only logs a failure.
			if err := service.Record(r.Context(), audit.Event{Action: "lookup.upload", Object: "lookup:x"}); err != nil {
				log.Error("audit record failed", "err", err)
			}
			w.WriteHeader(http.StatusCreated)
			return nil
		}},
		{Method: "POST", Pattern: "/v1/test/change", Cap: api.Authenticated, Action: "thing.change", Handle: func(w http.ResponseWriter, r *http.Request) error {
			api.RecordForTest(a, r, audit.Event{Action: "thing.change", Object: "thing:1"})
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusCreated)
			_, err := io.WriteString(w, `{"ok":true}`)
			return err
		}},
	}
	sa := &api.SearchAPI{API: a, NewEnv: func(ctx context.Context, app string) *search.Env {
		f.envs.Add(1)
		return &search.Env{App: app}
	}}
	a.Extra = append(a.Extra, sa.Routes()...)
	ea := &api.EventsAPI{API: a, Index: index.NewService(db, index.Options{Logger: log})}
	a.Extra = append(a.Extra, ea.Routes()...)
	box, err := secrets.New(secrets.GenerateKey())
	if err != nil {
		t.Fatal(err)
	}
	tr := telemetry.NewTracing(log, nil, telemetry.TracingOptions{})
	t.Cleanup(func() { tr.Shutdown(context.Background()) })
	f.obs = telemetry.NewObservability(db, box, tr, telemetry.Settings{ServiceName: "dockyard"})
	if err := f.obs.Start(ctx); err != nil {
		t.Fatal(err)
	}
	ta := &api.TelemetryAPI{API: a, Observability: f.obs}
	a.Extra = append(a.Extra, ta.Routes()...)
	f.srv = httptest.NewServer(a.Handler())
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fixture) do(t *testing.T, method, path, body string) (int, wire.Error) {
	t.Helper()
	req, _ := http.NewRequest(method, f.srv.URL+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+f.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var e wire.Error
	b, _ := io.ReadAll(resp.Body)
	json.Unmarshal(b, &e)
	return resp.StatusCode, e
}

// logLinesWith returns the log lines that hold s.
func logLinesWith(log, s string) []string {
	var out []string
	for _, l := range strings.Split(log, "\n") {
		if strings.Contains(l, s) {
			out = append(out, l)
		}
	}
	return out
}

func want500Logged(t *testing.T, f *fixture, status int, e wire.Error, route, user string, causes ...string) {
	t.Helper()
	if status != http.StatusInternalServerError || e.RequestID == "" || !strings.Contains(e.Error, "request id "+e.RequestID) {
		t.Fatalf("answer = %d %+v, want a 500 naming its request id", status, e)
	}
	for _, c := range causes {
		if strings.Contains(e.Error, c) {
			t.Errorf("the answer leaks the internal cause %q: %s", c, e.Error)
		}
	}
	lines := logLinesWith(f.log.String(), "request_id="+e.RequestID)
	var internal []string
	for _, l := range lines {
		if strings.Contains(l, `msg="internal error"`) {
			internal = append(internal, l)
		}
	}
	if len(internal) != 1 {
		t.Fatalf("log lines of request %s = %q, want one internal error line\nlog:\n%s", e.RequestID, lines, f.log.String())
	}
	l := internal[0]
	for _, w := range append([]string{route, "user=" + user}, causes...) {
		if !strings.Contains(l, w) {
			t.Errorf("the log line lacks %q: %s", w, l)
		}
	}
}

func TestInternalErrorIsLoggedOnce(t *testing.T) {
	f := start(t, &audit.Memory{})
	status, e := f.do(t, "GET", "/v1/test/boom", "")
	want500Logged(t, f, status, e, `route="GET /v1/test/boom"`, "admin", "import model", "write blob", "input/output error", "syscall.Errno")
}

func TestPanicIsA500Logged(t *testing.T) {
	f := start(t, &audit.Memory{})
	status, e := f.do(t, "GET", "/v1/test/panic", "")
	want500Logged(t, f, status, e, `route="GET /v1/test/panic"`, "admin", "assignment to entry in nil map", "errors_test.go")
}

func TestClosedStoreIsLogged(t *testing.T) {
	f := start(t, &audit.Memory{})
	f.db.Close()
	status, e := f.do(t, "GET", "/v1/test/boom", "")
	want500Logged(t, f, status, e, `route="GET /v1/test/boom"`, "", "closed")
}

func TestAuditFailureFailsTheRequest(t *testing.T) {
	f := start(t, failingRecorder{})
	status, e := f.do(t, "POST", "/v1/test/change", "")
	want500Logged(t, f, status, e, `route="POST /v1/test/change"`, "admin", "thing.change", "no space left on device")
	if !strings.Contains(e.Error, "audit event could not be recorded") {
		t.Errorf("answer = %q, want it to say the audit event could not be recorded", e.Error)
	}
}

func TestAuditFailureInAServiceFailsTheRequest(t *testing.T) {
	f := start(t, failingRecorder{})
	status, e := f.do(t, "POST", "/v1/test/service", "")
	want500Logged(t, f, status, e, `route="POST /v1/test/service"`, "admin", "no space left on device")
	g := start(t, &audit.Memory{})
	if status, e := g.do(t, "POST", "/v1/test/service", ""); status != http.StatusCreated {
		t.Fatalf("with a working recorder: %d %+v", status, e)
	}
}

func TestSearchDoesNotRunWithoutItsAuditEvent(t *testing.T) {
	f := start(t, failingRecorder{})
	status, e := f.do(t, "POST", "/v1/search", `{"search":"| makeresults count=3"}`)
	want500Logged(t, f, status, e, `route="POST /v1/search"`, "admin", "search.start", "no space left on device")
	if f.envs.Load() != 0 {
		t.Errorf("the search ran (%d environments made) although its audit event failed", f.envs.Load())
	}
	// With a working recorder the same search runs and both events land.
	rec := &audit.Memory{}
	g := start(t, rec)
	if status, e := g.do(t, "POST", "/v1/search", `{"search":"| makeresults count=3"}`); status != http.StatusOK {
		t.Fatalf("search = %d %+v", status, e)
	}
	var actions []string
	for _, ev := range rec.Events() {
		actions = append(actions, ev.Action)
	}
	if strings.Join(actions, ",") != "search.start,search" {
		t.Errorf("audit events = %v, want search.start then search", actions)
	}
}
