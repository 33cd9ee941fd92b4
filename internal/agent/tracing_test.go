package agent_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/dockyard/dockyard/internal/agent"
	"github.com/dockyard/dockyard/internal/agent/agentclient"
	"github.com/dockyard/dockyard/internal/agent/agenttest"
	"github.com/dockyard/dockyard/internal/agent/internal/testlog"
	"github.com/dockyard/dockyard/internal/telemetry"
	"github.com/dockyard/dockyard/internal/telemetry/telemetrytest"
)

func TestTraceEnvRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   telemetry.Settings
		want telemetry.Settings
	}{
		{"off", telemetry.Settings{Enabled: false, Endpoint: "https://c:4318", Token: "secret-token"}, telemetry.Settings{ServiceName: "dockyard.agent"}},
		{"no endpoint", telemetry.Settings{Enabled: true}, telemetry.Settings{ServiceName: "dockyard.agent"}},
		{"default name", telemetry.Settings{Enabled: true, Endpoint: "c:4318"},
			telemetry.Settings{Enabled: true, Endpoint: "c:4318", ServiceName: "dockyard.agent"}},
		{"all", telemetry.Settings{Enabled: true, Endpoint: "https://c:4318", Token: "tok-1234", TokenHeader: "x-honeycomb-team", ServiceName: "prod"},
			telemetry.Settings{Enabled: true, Endpoint: "https://c:4318", Token: "tok-1234", TokenHeader: "x-honeycomb-team", ServiceName: "prod.agent"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := agent.TraceEnv(tc.in)
			if !tc.in.Enabled && len(env) > 0 {
				t.Fatalf("TraceEnv of disabled settings = %v, want nothing (no token handed out)", env)
			}
			got := agent.TraceSettingsFromEnv(func(k string) string { return env[k] })
			if got != tc.want {
				t.Errorf("round trip = %v (token %q), want %v (token %q)", got, got.Token, tc.want, tc.want.Token)
			}
		})
	}
}

// parentContext returns a context carrying a sampled remote span, as a
// server request would.
func parentContext(t *testing.T) (context.Context, trace.SpanContext) {
	t.Helper()
	sc := trace.NewSpanContext(trace.SpanContextConfig{
		TraceID:    trace.TraceID{0x0a, 0x0b, 0x0c, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13},
		SpanID:     trace.SpanID{1, 2, 3, 4, 5, 6, 7, 8},
		TraceFlags: trace.FlagsSampled,
		Remote:     true,
	})
	return trace.ContextWithSpanContext(context.Background(), sc), sc
}

func TestAgentContinuesTheCallersTrace(t *testing.T) {
	py := bare(t)
	col := telemetrytest.NewCollector(t)
	tr := telemetry.NewTracing(testlog.New(t), nil, telemetry.TracingOptions{BatchTimeout: 50 * time.Millisecond})
	if err := tr.Configure(context.Background(), telemetry.Settings{Enabled: true, Endpoint: col.URL(), ServiceName: "dockyard.agent"}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tr.Shutdown(context.Background()) })
	a := agenttest.Start(t, agenttest.Options{Python: py, Tracing: tr})
	nb, err := os.ReadFile(filepath.Join("testdata", "noop.py"))
	if err != nil {
		t.Fatal(err)
	}
	cl := agentclient.New(a.URL, a.Token, a.Client)
	ctx, parent := parentContext(t)
	if _, err := cl.PutNotebook(ctx, "noop.py", nb); err != nil {
		t.Fatal(err)
	}
	m, _ := json.Marshal(meta("noop", "M1", nil))
	ans, err := cl.Fit(ctx, m, "a,b\n1,2\n3,4\n")
	if err != nil || ans.Status != "success" {
		t.Fatalf("fit = %+v, %v", ans, err)
	}
	if _, err := cl.Summary(ctx, "noop", "M1"); err != nil {
		t.Fatalf("summary: %v", err)
	}
	wctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	byName := func(spans []telemetrytest.Span) map[string]telemetrytest.Span {
		out := map[string]telemetrytest.Span{}
		for _, s := range spans {
			if s.TraceID == parent.TraceID().String() {
				out[s.Name] = s
			}
		}
		return out
	}
	want := []string{"PUT /v1/notebooks/{name}", "POST /fit", "runner fit", "notebook init", "notebook fit", "notebook save", "GET /summary", "runner summary"}
	spans := col.WaitFor(wctx, func(s []telemetrytest.Span) bool { return len(byName(s)) >= len(want) })
	got := byName(spans)
	for _, n := range want {
		if _, ok := got[n]; !ok {
			t.Errorf("no span %q in the caller's trace; got %v", n, spans)
		}
	}
	if t.Failed() {
		return
	}
	// The request span is a child of the caller's span, the runner call of
	// the request, and each step of the runner call.
	for child, par := range map[string]string{"POST /fit": "", "runner fit": "POST /fit", "notebook fit": "runner fit",
		"notebook init": "runner fit", "runner summary": "GET /summary"} {
		wantParent := parent.SpanID().String()
		if par != "" {
			wantParent = got[par].SpanID
		}
		if got[child].ParentSpanID != wantParent {
			t.Errorf("span %q has parent %s, want %s (%q)", child, got[child].ParentSpanID, wantParent, par)
		}
	}
	if s := got["POST /fit"]; s.ServiceName != "dockyard.agent" || s.Attributes["http.route"] != "/fit" {
		t.Errorf("request span = %+v", s)
	}
	if s := got["runner fit"]; s.Attributes["dockyard.notebook"] != "noop" || s.Attributes["dockyard.status"] != "success" {
		t.Errorf("runner span = %+v", s)
	}
	for _, s := range spans {
		if s.Name == "GET /healthz" {
			t.Errorf("health probes are traced: %+v", s)
		}
	}
}
