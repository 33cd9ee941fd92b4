package server

import (
	"context"
	"net/http"
	"time"

	"go.opentelemetry.io/otel/attribute"

	"github.com/dockyard/dockyard/internal/agent"
	"github.com/dockyard/dockyard/internal/api"
	"github.com/dockyard/dockyard/internal/telemetry"
)

// openTelemetry sets up the server's Prometheus registry, the trace
// exporter (off unless configured) and their API routes. Saved
// observability settings that cannot be applied (the secret key changed)
// leave tracing off with an error in the log; the server still starts.
func (s *Server) openTelemetry(ctx context.Context) error {
	s.Metrics = telemetry.NewMetrics()
	s.Tracing = telemetry.NewTracing(s.Log, s.Metrics, telemetry.TracingOptions{
		Attributes: []attribute.KeyValue{attribute.String("service.instance.id", s.ID)},
	})
	s.closers = append(s.closers, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		return s.Tracing.Shutdown(ctx)
	})
	base := telemetry.Settings{
		Enabled:     s.Config.Telemetry.OTLPEndpoint != "",
		Endpoint:    s.Config.Telemetry.OTLPEndpoint,
		ServiceName: s.Config.Telemetry.ServiceName,
	}
	s.Observability = telemetry.NewObservability(s.Store, s.Secrets, s.Tracing, base)
	if err := s.Observability.Start(ctx); err != nil {
		s.Log.Error("trace export stays off", "err", err)
	}
	t := &api.TelemetryAPI{API: s.API, Metrics: s.Metrics, Observability: s.Observability}
	s.API.Extra = append(s.API.Extra, t.Routes()...)
	return nil
}

// instrument gives every request a span and counts it in the metrics.
func (s *Server) instrument(h http.Handler) http.Handler {
	return telemetry.Instrument(h, s.Metrics, s.Tracing)
}

// agentTraceEnv is the environment that makes the agents the server starts
// export their spans with the server's settings (agent.TraceEnv): nothing
// while the server's own export is off.
func (s *Server) agentTraceEnv(ctx context.Context) (map[string]string, error) {
	set, err := s.traceSettings(ctx)
	if err != nil {
		return nil, err
	}
	return agent.TraceEnv(set), nil
}

// traceSettings returns the trace-export settings in force, token
// included, for the agents the server starts; none while tracing is off.
func (s *Server) traceSettings(ctx context.Context) (telemetry.Settings, error) {
	if !s.Tracing.Enabled() {
		return telemetry.Settings{}, nil
	}
	return s.Observability.Settings(), nil
}
