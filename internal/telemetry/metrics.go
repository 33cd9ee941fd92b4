package telemetry

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Namespace prefixes every metric name Dockyard registers.
const Namespace = "dockyard"

// Metrics is the server's Prometheus registry (never the global default
// one) with the HTTP request metrics built in; other packages register
// their own counters, gauges and histograms through Counter, Gauge and
// Histogram. A nil *Metrics is valid: its helpers return working collectors
// that are registered nowhere, so a component can be used without a server.
type Metrics struct {
	reg           *prometheus.Registry
	requests      *prometheus.CounterVec
	duration      *prometheus.HistogramVec
	inFlight      prometheus.Gauge
	loginFailures prometheus.Counter
	spansExported prometheus.Counter
	exportErrors  prometheus.Counter
}

// NewMetrics returns a registry holding the Go runtime and process
// collectors and Dockyard's HTTP and tracing metrics.
func NewMetrics() *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	m.reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	m.requests = m.Counter("http_requests_total",
		"HTTP requests answered, by route pattern, method and status code.", "route", "method", "code")
	m.duration = m.Histogram("http_request_duration_seconds",
		"Time to answer HTTP requests, by route pattern, method and status code.",
		prometheus.DefBuckets, "route", "method", "code")
	m.inFlight = m.Gauge("http_requests_in_flight", "HTTP requests being answered now.").WithLabelValues()
	m.loginFailures = m.Counter("login_failures_total",
		"Login attempts refused (wrong user or password, throttled, malformed).").WithLabelValues()
	m.spansExported = m.Counter("trace_spans_exported_total",
		"Spans sent to the OTLP trace endpoint.").WithLabelValues()
	m.exportErrors = m.Counter("trace_export_errors_total",
		"Failed exports of spans to the OTLP trace endpoint.").WithLabelValues()
	return m
}

// Registry returns the registry, for collectors the helpers do not cover.
// It is nil for a nil *Metrics.
func (m *Metrics) Registry() *prometheus.Registry {
	if m == nil {
		return nil
	}
	return m.reg
}

// Handler serves the registry in the Prometheus exposition format.
func (m *Metrics) Handler() http.Handler {
	if m == nil {
		return http.NotFoundHandler()
	}
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg, ErrorHandling: promhttp.ContinueOnError})
}

// fullName adds the namespace unless name already starts with it.
func fullName(name string) string {
	if strings.HasPrefix(name, Namespace+"_") {
		return name
	}
	return Namespace + "_" + name
}

// register adds c to the registry; when an equal collector is there
// already, that one is returned instead, so calling a helper twice with the
// same name and labels is safe. A conflicting registration (same name,
// other labels or help) panics, as a programming error.
func register[C prometheus.Collector](m *Metrics, c C) C {
	if m == nil {
		return c
	}
	if err := m.reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(C); ok {
				return existing
			}
		}
		panic("telemetry: " + err.Error())
	}
	return c
}

// Counter registers (or returns the already registered) counter
// dockyard_<name> with the given label names.
func (m *Metrics) Counter(name, help string, labels ...string) *prometheus.CounterVec {
	return register(m, prometheus.NewCounterVec(prometheus.CounterOpts{Name: fullName(name), Help: help}, labels))
}

// Gauge registers (or returns the already registered) gauge
// dockyard_<name> with the given label names.
func (m *Metrics) Gauge(name, help string, labels ...string) *prometheus.GaugeVec {
	return register(m, prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: fullName(name), Help: help}, labels))
}

// GaugeFunc registers a gauge dockyard_<name> whose value f computes at
// each scrape (f must be fast and safe for concurrent use).
func (m *Metrics) GaugeFunc(name, help string, f func() float64) {
	register(m, prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: fullName(name), Help: help}, f))
}

// Histogram registers (or returns the already registered) histogram
// dockyard_<name>; nil buckets means prometheus.DefBuckets (seconds).
func (m *Metrics) Histogram(name, help string, buckets []float64, labels ...string) *prometheus.HistogramVec {
	return register(m, prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: fullName(name), Help: help, Buckets: buckets}, labels))
}

// ObserveRequest counts one answered request and its duration.
func (m *Metrics) ObserveRequest(route, method string, code int, d time.Duration) {
	if m == nil {
		return
	}
	c := strconv.Itoa(code)
	m.requests.WithLabelValues(route, method, c).Inc()
	m.duration.WithLabelValues(route, method, c).Observe(d.Seconds())
}

// LoginFailed counts one refused login.
func (m *Metrics) LoginFailed() {
	if m != nil {
		m.loginFailures.Inc()
	}
}

func (m *Metrics) spansSent(n int) {
	if m != nil {
		m.spansExported.Add(float64(n))
	}
}

func (m *Metrics) exportFailed() {
	if m != nil {
		m.exportErrors.Inc()
	}
}
