package telemetry_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/dockyard/dockyard/internal/telemetry"
	"github.com/dockyard/dockyard/internal/telemetry/telemetrytest"
)

func testLog(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type tWriter struct{ t *testing.T }

func (w tWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(b)))
	return len(b), nil
}

func waitCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestTracingOffByDefault(t *testing.T) {
	tr := telemetry.NewTracing(testLog(t), nil, telemetry.TracingOptions{})
	if tr.Enabled() {
		t.Fatal("tracing must be off until configured")
	}
	_, span := tr.Tracer("x").Start(context.Background(), "op")
	if span.IsRecording() {
		t.Error("spans must not record while off")
	}
	span.End()
	var nilT *telemetry.Tracing
	_, span = nilT.Tracer("x").Start(context.Background(), "op")
	span.End()
	if err := tr.Configure(context.Background(), telemetry.Settings{Enabled: false}); err != nil {
		t.Fatalf("configuring off: %v", err)
	}
	if err := tr.Shutdown(context.Background()); err != nil {
		t.Fatalf("shutdown while off: %v", err)
	}
}

func TestTracingExportsWithTokenAndServiceName(t *testing.T) {
	col := telemetrytest.NewCollector(t)
	m := telemetry.NewMetrics()
	tr := telemetry.NewTracing(testLog(t), m, telemetry.TracingOptions{BatchTimeout: 50 * time.Millisecond})
	defer tr.Shutdown(context.Background())
	tracer := tr.Tracer("test") // taken before Configure: must follow it
	err := tr.Configure(context.Background(), telemetry.Settings{
		Enabled: true, Endpoint: col.URL(), Token: "s3cret-token-abcd", ServiceName: "dockyard-test"})
	if err != nil {
		t.Fatal(err)
	}
	_, span := tracer.Start(context.Background(), "first")
	span.End()
	if err := tr.ForceFlush(context.Background()); err != nil {
		t.Fatal(err)
	}
	spans := col.WaitFor(waitCtx(t), func(s []telemetrytest.Span) bool { return len(s) >= 1 })
	if len(spans) != 1 || spans[0].Name != "first" || spans[0].ServiceName != "dockyard-test" {
		t.Fatalf("spans = %+v", spans)
	}
	if got := col.Headers()[0].Get("Authorization"); got != "Bearer s3cret-token-abcd" {
		t.Errorf("Authorization header = %q", got)
	}

	// A custom header carries the bare token.
	err = tr.Configure(context.Background(), telemetry.Settings{
		Enabled: true, Endpoint: col.URL() + "/v1/traces", Token: "k2", TokenHeader: "x-api-key"})
	if err != nil {
		t.Fatal(err)
	}
	_, span = tracer.Start(context.Background(), "second")
	span.End()
	tr.ForceFlush(context.Background())
	col.WaitFor(waitCtx(t), func(s []telemetrytest.Span) bool { return len(s) >= 2 })
	hs := col.Headers()
	last := hs[len(hs)-1]
	if last.Get("X-Api-Key") != "k2" || last.Get("Authorization") != "" {
		t.Errorf("custom header: X-Api-Key=%q Authorization=%q", last.Get("X-Api-Key"), last.Get("Authorization"))
	}

	// Off again: nothing more is exported.
	if err := tr.Configure(context.Background(), telemetry.Settings{}); err != nil {
		t.Fatal(err)
	}
	if err := tr.Shutdown(context.Background()); err != nil { // waits for the old provider
		t.Fatal(err)
	}
	n := len(col.Spans())
	_, span = tracer.Start(context.Background(), "third")
	span.End()
	tr.ForceFlush(context.Background())
	time.Sleep(150 * time.Millisecond)
	if got := len(col.Spans()); got != n {
		t.Errorf("%d spans exported while off", got-n)
	}
	if out := scrape(t, m); !strings.Contains(out, "dockyard_trace_spans_exported_total 2") {
		t.Errorf("exported-span counter:\n%s", grep(out, "trace_"))
	}
}

func TestInstrumentContinuesCallersTrace(t *testing.T) {
	col := telemetrytest.NewCollector(t)
	tr := telemetry.NewTracing(testLog(t), nil, telemetry.TracingOptions{})
	defer tr.Shutdown(context.Background())
	if err := tr.Configure(context.Background(), telemetry.Settings{Enabled: true, Endpoint: col.URL()}); err != nil {
		t.Fatal(err)
	}
	var inner trace.SpanContext
	var forwarded http.Header
	h := telemetry.Instrument(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		inner = trace.SpanContextFromContext(r.Context())
		forwarded = http.Header{}
		telemetry.Inject(r.Context(), forwarded) // as the server does towards an agent
		w.Header().Set("X-Request-Id", "rid-1")
	}), nil, tr)
	const traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
	req := httptest.NewRequest("GET", "/x", nil)
	req.Header.Set("traceparent", "00-"+traceID+"-00f067aa0ba902b7-01")
	h.ServeHTTP(httptest.NewRecorder(), req)
	if inner.TraceID().String() != traceID {
		t.Fatalf("handler's span is in trace %s, want the caller's %s", inner.TraceID(), traceID)
	}
	if !strings.Contains(forwarded.Get("traceparent"), traceID) {
		t.Errorf("Inject wrote traceparent %q", forwarded.Get("traceparent"))
	}
	// Extract on the receiving side gives back the same trace.
	got := trace.SpanContextFromContext(telemetry.Extract(context.Background(), forwarded))
	if got.TraceID().String() != traceID || got.SpanID() != inner.SpanID() {
		t.Errorf("Extract = %v/%v", got.TraceID(), got.SpanID())
	}
	tr.ForceFlush(context.Background())
	spans := col.WaitFor(waitCtx(t), func(s []telemetrytest.Span) bool { return len(s) >= 1 })
	if len(spans) != 1 {
		t.Fatalf("spans = %+v", spans)
	}
	s := spans[0]
	if s.TraceID != traceID || s.ParentSpanID != "00f067aa0ba902b7" || s.Name != "GET unmatched" ||
		s.Attributes["dockyard.request_id"] != "rid-1" || s.ServiceName != "dockyard" {
		t.Errorf("span = %+v", s)
	}
}

func TestInstrumentPassesTraceContextOnWhileOff(t *testing.T) {
	tr := telemetry.NewTracing(testLog(t), nil, telemetry.TracingOptions{})
	var forwarded http.Header
	h := telemetry.Instrument(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		forwarded = http.Header{}
		telemetry.Inject(r.Context(), forwarded)
	}), nil, tr)
	req := httptest.NewRequest("GET", "/x", nil)
	tp := "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	req.Header.Set("traceparent", tp)
	h.ServeHTTP(httptest.NewRecorder(), req)
	if forwarded.Get("traceparent") != tp {
		t.Errorf("with tracing off, the caller's trace context should pass on unchanged: got %q", forwarded.Get("traceparent"))
	}
}
