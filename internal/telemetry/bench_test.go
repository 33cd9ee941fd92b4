package telemetry_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/dockyard/dockyard/internal/telemetry"
	"github.com/dockyard/dockyard/internal/telemetry/telemetrytest"
)

// BenchmarkInstrument measures what the middleware adds to a request:
// bare mux, metrics only with tracing off, and metrics with tracing on
// (exporting in batches to a loopback collector).
func BenchmarkInstrument(b *testing.B) {
	col := telemetrytest.NewCollector(b)
	on := telemetry.NewTracing(telemetry.Discard(), nil, telemetry.TracingOptions{BatchTimeout: 100 * time.Millisecond})
	if err := on.Configure(context.Background(), telemetry.Settings{Enabled: true, Endpoint: col.URL()}); err != nil {
		b.Fatal(err)
	}
	defer on.Shutdown(context.Background())
	cases := []struct {
		name string
		h    http.Handler
	}{
		{"bare", mux()},
		{"metrics_tracing_off", telemetry.Instrument(mux(), telemetry.NewMetrics(), telemetry.NewTracing(telemetry.Discard(), nil, telemetry.TracingOptions{}))},
		{"metrics_tracing_on", telemetry.Instrument(mux(), telemetry.NewMetrics(), on)},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			req := httptest.NewRequest("GET", "/v1/models/iris", nil)
			b.ReportAllocs()
			for b.Loop() {
				c.h.ServeHTTP(discardWriter{}, req)
			}
		})
	}
}

type discardWriter struct{}

func (discardWriter) Header() http.Header         { return http.Header{} }
func (discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (discardWriter) WriteHeader(int)             {}
