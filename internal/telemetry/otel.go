package telemetry

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/embedded"
	"go.opentelemetry.io/otel/trace/noop"
)

// propagator carries W3C trace context (traceparent, tracestate) and
// baggage across HTTP hops: server → agent → runner.
var propagator = propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})

// Inject writes the trace context of ctx into h (the traceparent header),
// so that the receiver continues the same trace. Without a span in ctx it
// writes nothing.
func Inject(ctx context.Context, h http.Header) {
	propagator.Inject(ctx, propagation.HeaderCarrier(h))
}

// Extract returns ctx carrying the remote trace context found in h, if
// any; spans started from it become children of the caller's span.
func Extract(ctx context.Context, h http.Header) context.Context {
	return propagator.Extract(ctx, propagation.HeaderCarrier(h))
}

// TracingOptions tune the exporter; zero values take the SDK's defaults.
type TracingOptions struct {
	// BatchTimeout is the longest a finished span waits before export.
	BatchTimeout time.Duration
	// ExportTimeout bounds one export request.
	ExportTimeout time.Duration
	// Attributes are added to the resource (service.instance.id, ...).
	Attributes []attribute.KeyValue
}

// Tracing is a trace.TracerProvider whose export settings change at run
// time. While off (the default) it hands out no-op tracers, which still
// pass an incoming trace context on, and no exporter exists. Tracers it
// returned earlier follow each reconfiguration. A nil *Tracing is off.
type Tracing struct {
	embedded.TracerProvider
	log     *slog.Logger
	opts    TracingOptions
	metrics *Metrics

	mu       sync.RWMutex
	provider *sdktrace.TracerProvider // nil while off
	settings Settings
	draining sync.WaitGroup // old providers being shut down
}

// NewTracing returns a Tracing that is off. m (may be nil) counts exported
// spans and export errors.
func NewTracing(log *slog.Logger, m *Metrics, opts TracingOptions) *Tracing {
	return &Tracing{log: log, opts: opts, metrics: m}
}

var noopProvider = noop.NewTracerProvider()

// Tracer returns a tracer that always uses the current configuration.
func (t *Tracing) Tracer(name string, opts ...trace.TracerOption) trace.Tracer {
	return &dynamicTracer{t: t, name: name, opts: opts}
}

// Enabled reports whether spans are being exported.
func (t *Tracing) Enabled() bool {
	if t == nil {
		return false
	}
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.provider != nil
}

func (t *Tracing) current() trace.TracerProvider {
	if t == nil {
		return noopProvider
	}
	t.mu.RLock()
	defer t.mu.RUnlock()
	if t.provider == nil {
		return noopProvider
	}
	return t.provider
}

type dynamicTracer struct {
	embedded.Tracer
	t    *Tracing
	name string
	opts []trace.TracerOption
}

func (d *dynamicTracer) Start(ctx context.Context, name string, opts ...trace.SpanStartOption) (context.Context, trace.Span) {
	return d.t.current().Tracer(d.name, d.opts...).Start(ctx, name, opts...)
}

// Configure validates s and switches to it: a new exporter when s is
// enabled, none when it is not. The previous provider is shut down in the
// background, flushing what it still holds to its own endpoint.
func (t *Tracing) Configure(ctx context.Context, s Settings) error {
	p, err := t.build(ctx, s)
	if err != nil {
		return err
	}
	t.swap(p, s)
	return nil
}

// build makes the provider for s without installing it; nil when off.
func (t *Tracing) build(ctx context.Context, s Settings) (*sdktrace.TracerProvider, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	if !s.Enabled {
		return nil, nil
	}
	u, err := s.TraceURL()
	if err != nil {
		return nil, err
	}
	eopts := []otlptracehttp.Option{otlptracehttp.WithEndpointURL(u.String())}
	if h := s.header(); h != nil {
		eopts = append(eopts, otlptracehttp.WithHeaders(h))
	}
	if t.opts.ExportTimeout > 0 {
		eopts = append(eopts, otlptracehttp.WithTimeout(t.opts.ExportTimeout))
	}
	exp, err := otlptracehttp.New(ctx, eopts...)
	if err != nil {
		return nil, errors.New("trace exporter: " + err.Error())
	}
	attrs := append([]attribute.KeyValue{attribute.String("service.name", s.serviceName())}, t.opts.Attributes...)
	var bopts []sdktrace.BatchSpanProcessorOption
	if t.opts.BatchTimeout > 0 {
		bopts = append(bopts, sdktrace.WithBatchTimeout(t.opts.BatchTimeout))
	}
	return sdktrace.NewTracerProvider(
		sdktrace.WithBatcher(&countingExporter{SpanExporter: exp, log: t.log, metrics: t.metrics}, bopts...),
		sdktrace.WithResource(resource.NewSchemaless(attrs...)),
		sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.AlwaysSample())),
	), nil
}

// swap installs p and shuts the previous provider down in the background.
func (t *Tracing) swap(p *sdktrace.TracerProvider, s Settings) {
	t.mu.Lock()
	old := t.provider
	t.provider, t.settings = p, s
	t.mu.Unlock()
	if p != nil {
		t.log.Info("trace export on", "endpoint", s.Endpoint, "service_name", s.serviceName())
	} else if old != nil {
		t.log.Info("trace export off")
	}
	if old == nil {
		return
	}
	t.draining.Add(1)
	go func() {
		defer t.draining.Done()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := old.Shutdown(ctx); err != nil {
			t.log.Warn("shutting down the previous trace exporter", "err", err)
		}
	}()
}

// ForceFlush exports every finished span now.
func (t *Tracing) ForceFlush(ctx context.Context) error {
	if t == nil {
		return nil
	}
	t.mu.RLock()
	p := t.provider
	t.mu.RUnlock()
	if p == nil {
		return nil
	}
	return p.ForceFlush(ctx)
}

// Shutdown flushes and stops the exporter; Tracing is off afterwards. It
// waits for earlier providers still shutting down.
func (t *Tracing) Shutdown(ctx context.Context) error {
	if t == nil {
		return nil
	}
	t.mu.Lock()
	p := t.provider
	t.provider = nil
	t.mu.Unlock()
	var err error
	if p != nil {
		err = p.Shutdown(ctx)
	}
	done := make(chan struct{})
	go func() { t.draining.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		if err == nil {
			err = ctx.Err()
		}
	}
	return err
}

// countingExporter counts exports and logs failures through the injected
// logger (instead of OpenTelemetry's global error handler).
type countingExporter struct {
	sdktrace.SpanExporter
	log     *slog.Logger
	metrics *Metrics
}

func (e *countingExporter) ExportSpans(ctx context.Context, spans []sdktrace.ReadOnlySpan) error {
	if err := e.SpanExporter.ExportSpans(ctx, spans); err != nil {
		e.metrics.exportFailed()
		e.log.Warn("exporting spans failed; they are dropped", "spans", len(spans), "err", err)
		return nil
	}
	e.metrics.spansSent(len(spans))
	return nil
}

// shutdown stops a provider that was built but never installed.
func shutdown(p *sdktrace.TracerProvider) {
	if p != nil {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		p.Shutdown(ctx)
	}
}
