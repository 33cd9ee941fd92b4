package server_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/dockyard/dockyard/internal/access"
	"github.com/dockyard/dockyard/internal/agent"
	"github.com/dockyard/dockyard/internal/containers"
	"github.com/dockyard/dockyard/internal/server/servertest"
	"github.com/dockyard/dockyard/internal/telemetry"
	"github.com/dockyard/dockyard/internal/telemetry/telemetrytest"
	"github.com/dockyard/dockyard/internal/wire"
)

// agentEnviron returns the environment the process runtime's agent of
// the container name (as owner sees it) hands its notebook runner, read
// from /proc: the runner is the agent's python descendant. (The agent
// itself gets its per-start secrets from its start environment file, so
// its own initial environment does not hold them.)
func agentEnviron(t *testing.T, h *servertest.Harness, owner *access.Principal, name string) map[string]string {
	t.Helper()
	c, err := h.Srv.Containers().Get(context.Background(), owner, name)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(h.Data, "containers", c.RuntimeID, "container.json"))
	if err != nil {
		t.Fatal(err)
	}
	var rec struct {
		PID int `json:"pid"`
	}
	if err := json.Unmarshal(b, &rec); err != nil || rec.PID == 0 {
		t.Fatalf("container.json has no pid (%v): %s", err, b)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		if pid := pythonDescendant(rec.PID); pid > 0 {
			raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid))
			if err != nil {
				t.Fatal(err)
			}
			env := map[string]string{}
			for _, kv := range strings.Split(string(raw), "\x00") {
				if k, v, ok := strings.Cut(kv, "="); ok {
					env[k] = v
				}
			}
			return env
		}
		if time.Now().After(deadline) {
			t.Fatalf("container %s: no notebook runner under pid %d", name, rec.PID)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// pythonDescendant finds a python process below pid (0: none yet).
func pythonDescendant(pid int) int {
	queue := []int{pid}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		if cl, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", p)); err == nil && p != pid &&
			strings.Contains(filepath.Base(strings.SplitN(string(cl), "\x00", 2)[0]), "python") {
			return p
		}
		// A child is listed under the thread that started it.
		tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", p))
		for _, tf := range tasks {
			kids, _ := os.ReadFile(tf)
			for _, f := range strings.Fields(string(kids)) {
				if n, err := strconv.Atoi(f); err == nil {
					queue = append(queue, n)
				}
			}
		}
	}
	return 0
}

// A request from the server to a container's agent continues the caller's
// trace: the agent (a child process) exports its request, runner and
// notebook-step spans over OTLP/HTTP with the trace id of the caller.
func TestAgentSpansJoinTheCallersTrace(t *testing.T) {
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("python3 is not on PATH; the agent's notebook runner needs it")
	}
	ctx := context.Background()
	col := telemetrytest.NewCollector(t)
	h := servertest.Start(t)
	cleanupContainers(t, h)
	on, ep, tok, svc := true, col.URL(), "otlp-token-5e6f7a8b", "dockyard-test"
	if _, err := h.Srv.Observability().Put(ctx, "admin", telemetry.Update{Enabled: &on, Endpoint: &ep, Token: &tok, ServiceName: &svc}); err != nil {
		t.Fatal(err)
	}
	carol := h.User("carol", access.RoleContainerUser)
	if _, err := carol.StartContainer(ctx, "traced", wire.ContainerStart{}); err != nil {
		t.Fatal(err)
	}
	owner := &access.Principal{User: "carol", App: "search", Caps: access.CapSet{access.CapControlContainer: true}}
	hd, err := h.Srv.Containers().Ensure(ctx, owner, "traced", containers.EnsureOptions{})
	if err != nil {
		t.Fatal(err)
	}
	nb, err := os.ReadFile(filepath.Join("..", "agent", "testdata", "noop.py"))
	if err != nil {
		t.Fatal(err)
	}
	parent := trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: trace.TraceID{0xd0, 0xc4, 0xe7, 0xa2, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, SpanID: trace.SpanID{9, 8, 7, 6, 5, 4, 3, 2},
		TraceFlags: trace.FlagsSampled, Remote: true,
	})
	pctx := trace.ContextWithSpanContext(ctx, parent)
	ag := hd.Agent()
	if _, err := ag.PutNotebook(pctx, "noop.py", nb); err != nil {
		t.Fatal(err)
	}
	meta := json.RawMessage(`{"options":{"params":{"algo":"noop"},"model_name":"M"}}`)
	if ans, err := ag.Fit(pctx, meta, "a,b\n1,2\n"); err != nil || ans.Status != "success" {
		t.Fatalf("fit = %+v, %v", ans, err)
	}
	inTrace := func(spans []telemetrytest.Span) map[string]telemetrytest.Span {
		out := map[string]telemetrytest.Span{}
		for _, s := range spans {
			if s.TraceID == parent.TraceID().String() && s.ServiceName == "dockyard-test"+agent.AgentServiceSuffix {
				out[s.Name] = s
			}
		}
		return out
	}
	want := []string{"PUT /v1/notebooks/{name}", "POST /fit", "runner fit", "notebook init", "notebook fit", "notebook save"}
	wctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	spans := col.WaitFor(wctx, func(s []telemetrytest.Span) bool { return len(inTrace(s)) >= len(want) })
	got := inTrace(spans)
	for _, n := range want {
		if _, ok := got[n]; !ok {
			t.Errorf("the agent exported no span %q in the caller's trace; got %+v", n, spans)
		}
	}
	if p := got["POST /fit"].ParentSpanID; p != parent.SpanID().String() {
		t.Errorf("the agent's request span has parent %q, want the caller's span %s", p, parent.SpanID())
	}
	if got["runner fit"].ParentSpanID != got["POST /fit"].SpanID || got["notebook fit"].ParentSpanID != got["runner fit"].SpanID {
		t.Errorf("runner spans are not nested under the request: %+v", got)
	}
	for _, hd := range col.Headers() {
		if hd.Get("Authorization") != "Bearer "+tok {
			t.Errorf("an export came without the access token (Authorization %q)", hd.Get("Authorization"))
		}
	}
	// The token reached the agent through its environment only.
	c, _ := h.Srv.Containers().Get(ctx, owner, "traced")
	for _, f := range []string{"container.json", "agent.log"} {
		b, _ := os.ReadFile(filepath.Join(h.Data, "containers", c.RuntimeID, f))
		if bytes.Contains(b, []byte(tok)) {
			t.Errorf("%s holds the trace exporter's token", f)
		}
	}
}

// containerHECPost sends one event with the token and returns the status and answer code.
func containerHECPost(t *testing.T, hc *http.Client, url, token, event string) (int, int) {
	t.Helper()
	req, _ := http.NewRequest("POST", url+"/event", strings.NewReader(event))
	req.Header.Set("Authorization", "Splunk "+token)
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var ans struct {
		Code int `json:"code"`
	}
	b, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(b, &ans); err != nil {
		t.Fatalf("HEC answer %q: %v", b, err)
	}
	return resp.StatusCode, ans.Code
}

// A container started with HEC tokens on gets a token for its owner's
// indexes through its environment; it writes to main, not to an index the
// owner may not search, and stops working when the container is removed.
// The token is never logged, audited or returned.
func TestContainerHECToken(t *testing.T) {
	ctx := context.Background()
	logs := &telemetrytest.LogBuffer{}
	h := servertest.StartWith(t, servertest.Config(t.TempDir()), slog.New(slog.NewTextHandler(logs, nil)))
	cleanupContainers(t, h)
	h.Srv.Containers().SetHECTokens(true)
	if _, err := h.Srv.Index().CreateIndex(ctx, "restricted"); err != nil {
		t.Fatal(err)
	}
	carol := h.User("carol", access.RoleContainerUser)
	started, err := carol.StartContainer(ctx, "hecbox", wire.ContainerStart{})
	if err != nil {
		t.Fatal(err)
	}
	owner := &access.Principal{User: "carol", App: "search", Caps: access.CapSet{access.CapControlContainer: true}}
	env := agentEnviron(t, h, owner, "hecbox")
	secret, url := env[agent.EnvHECToken], env[agent.EnvHECURL]
	// Sandboxed, the CA file is copied into the container (its start
	// directory, which the sandbox sees at /run/dockyard/start).
	caFile := env[agent.EnvHECCAFile]
	if caFile == "/run/dockyard/start/hec-ca.pem" {
		c, _ := h.Srv.Containers().Get(ctx, owner, "hecbox")
		caFile = filepath.Join(h.Data, "containers", c.RuntimeID, "start", "hec-ca.pem")
	} else if caFile != h.Srv.CAFile() {
		caFile = ""
	}
	if secret == "" || url != h.Srv.URL()+"/services/collector" || env[agent.EnvHECIndex] != "main" || caFile == "" {
		t.Fatalf("agent environment: token set %t, %s=%q, %s=%q, %s=%q", secret != "",
			agent.EnvHECURL, url, agent.EnvHECIndex, env[agent.EnvHECIndex], agent.EnvHECCAFile, env[agent.EnvHECCAFile])
	}
	caPEM, err := os.ReadFile(caFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	for _, tc := range []struct {
		event      string
		status, cd int
	}{
		{`{"event": "hello from hecbox"}`, 200, 0},
		{`{"event": "to main", "index": "main"}`, 200, 0},
		{`{"event": "not allowed", "index": "restricted"}`, 400, 7},
		{`{"event": "never", "index": "_internal"}`, 400, 7},
	} {
		if st, cd := containerHECPost(t, hc, url, secret, tc.event); st != tc.status || cd != tc.cd {
			t.Errorf("HEC %s = %d code %d, want %d code %d", tc.event, st, cd, tc.status, tc.cd)
		}
	}
	toks, err := h.Srv.Index().ListHECTokens(ctx)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, tk := range toks {
		if tk.Name == "container-hecbox" {
			found = true
			if len(tk.Indexes) != 1 || tk.Indexes[0] != "main" {
				t.Errorf("token indexes = %v, want [main]", tk.Indexes)
			}
		}
	}
	if !found {
		t.Errorf("no HEC token container-hecbox in %+v", toks)
	}
	c, _ := h.Srv.Containers().Get(ctx, owner, "hecbox")
	agentLog, _ := os.ReadFile(filepath.Join(h.Data, "containers", c.RuntimeID, "agent.log"))
	record, _ := os.ReadFile(filepath.Join(h.Data, "containers", c.RuntimeID, "container.json"))
	answer, _ := json.Marshal(started)
	listed, _ := carol.Containers(ctx)
	listAnswer, _ := json.Marshal(listed)

	if err := carol.RemoveContainer(ctx, "hecbox"); err != nil {
		t.Fatal(err)
	}
	if st, cd := containerHECPost(t, hc, url, secret, `{"event": "after removal"}`); st != 403 || cd != 4 {
		t.Errorf("HEC after removal = %d code %d, want 403 code 4 (invalid token)", st, cd)
	}
	for name, text := range map[string]string{"server log": logs.String(), "audit trail": auditActions(t, h),
		"agent log": string(agentLog), "container.json": string(record), "start answer": string(answer), "list answer": string(listAnswer)} {
		if strings.Contains(text, secret) {
			t.Errorf("the %s holds the container's HEC token", name)
		}
	}
	if all := auditActions(t, h); !hasEvent(all, `"container.start"`, `container-hecbox`) {
		t.Errorf("the start's audit event does not name its HEC token")
	}
}
