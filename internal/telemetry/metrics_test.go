package telemetry_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/dockyard/dockyard/internal/telemetry"
)

func scrape(t *testing.T, m *telemetry.Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 200 {
		t.Fatalf("scrape: status %d: %s", rec.Code, rec.Body)
	}
	b, _ := io.ReadAll(rec.Body)
	return string(b)
}

func TestHelpersRegisterOnceAndExpose(t *testing.T) {
	m := telemetry.NewMetrics()
	c1 := m.Counter("widgets_total", "Widgets made.", "kind")
	c2 := m.Counter("widgets_total", "Widgets made.", "kind")
	if c1 != c2 {
		t.Fatal("registering the same counter twice should return the first one")
	}
	c1.WithLabelValues("blue").Add(3)
	m.Gauge("dockyard_queue_depth", "Queued jobs.").WithLabelValues().Set(7)
	m.GaugeFunc("answer", "The answer.", func() float64 { return 42 })
	m.Histogram("work_seconds", "Work time.", nil, "step").WithLabelValues("fit").Observe(0.2)
	out := scrape(t, m)
	for _, want := range []string{
		`dockyard_widgets_total{kind="blue"} 3`,
		`dockyard_queue_depth 7`,
		`dockyard_answer 42`,
		`dockyard_work_seconds_count{step="fit"} 1`,
		`go_goroutines`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("scrape lacks %q", want)
		}
	}
}

func TestConflictingRegistrationPanics(t *testing.T) {
	m := telemetry.NewMetrics()
	m.Counter("things_total", "Things.", "a")
	defer func() {
		if recover() == nil {
			t.Fatal("registering things_total again with other labels should panic")
		}
	}()
	m.Counter("things_total", "Things.", "b")
}

func TestNilMetricsIsUsable(t *testing.T) {
	var m *telemetry.Metrics
	m.Counter("x_total", "X.").WithLabelValues().Inc()
	m.ObserveRequest("/", "GET", 200, 0)
	m.LoginFailed()
	if m.Registry() != nil {
		t.Fatal("nil Metrics has no registry")
	}
}

// mux is a small API like the server's: method patterns, a catch-all, a
// login route and a streaming route.
func mux() http.Handler {
	m := http.NewServeMux()
	m.HandleFunc("GET /v1/models/{name}", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) })
	m.HandleFunc("POST /v1/login", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Good") == "" {
			w.WriteHeader(http.StatusUnauthorized)
		}
	})
	m.HandleFunc("GET /v1/stream", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("a\n"))
		if err := http.NewResponseController(w).Flush(); err != nil {
			http.Error(w, err.Error(), 500)
		}
	})
	m.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) })
	return m
}

func TestInstrumentCountsByRoutePattern(t *testing.T) {
	m := telemetry.NewMetrics()
	h := telemetry.Instrument(mux(), m, nil)
	do := func(method, path string, hdr ...string) int {
		req := httptest.NewRequest(method, path, nil)
		if len(hdr) == 2 {
			req.Header.Set(hdr[0], hdr[1])
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code
	}
	do("GET", "/v1/models/a")
	do("GET", "/v1/models/b")
	do("GET", "/no/such/path/1")
	do("GET", "/no/such/path/2")
	do("POST", "/v1/login")
	do("POST", "/v1/login", "X-Good", "1")
	do("BREW", "/v1/models/a")
	if c := do("GET", "/v1/stream"); c != 200 {
		t.Errorf("streaming through the wrapper: status %d", c)
	}
	out := scrape(t, m)
	for _, want := range []string{
		`dockyard_http_requests_total{code="200",method="GET",route="/v1/models/{name}"} 2`,
		`dockyard_http_requests_total{code="404",method="GET",route="/"} 2`,
		`dockyard_http_requests_total{code="401",method="POST",route="/v1/login"} 1`,
		`dockyard_http_requests_total{code="200",method="POST",route="/v1/login"} 1`,
		`dockyard_http_requests_total{code="200",method="GET",route="/v1/stream"} 1`,
		`dockyard_http_request_duration_seconds_count{code="200",method="GET",route="/v1/models/{name}"} 2`,
		`dockyard_login_failures_total 1`,
		`method="OTHER"`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("scrape lacks %q", want)
		}
	}
	if strings.Contains(out, "/no/such/path") || strings.Contains(out, "/v1/models/a") {
		t.Error("raw paths must not become label values")
	}
}

func TestInstrumentUnmatched(t *testing.T) {
	m := telemetry.NewMetrics()
	plain := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) })
	h := telemetry.Instrument(plain, m, nil)
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/anything/123", nil))
	if out := scrape(t, m); !strings.Contains(out, `dockyard_http_requests_total{code="204",method="GET",route="unmatched"} 1`) {
		t.Errorf("a request without a pattern should count as unmatched:\n%s", grep(out, "http_requests_total"))
	}
}

func grep(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
