package server

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"go.opentelemetry.io/otel/attribute"

	"github.com/dockyard/dockyard/internal/agent"
	"github.com/dockyard/dockyard/internal/api"
	"github.com/dockyard/dockyard/internal/config"
	"github.com/dockyard/dockyard/internal/secrets"
	"github.com/dockyard/dockyard/internal/telemetry"
)

// observability is the server's Prometheus registry, its trace exporter
// and the saved observability settings.
type observability struct {
	metrics  *telemetry.Metrics
	tracing  *telemetry.Tracing
	settings *telemetry.Observability
}

// newTelemetry sets up the server's Prometheus registry, the trace
// exporter (off unless configured) and their API routes. Saved
// observability settings that cannot be applied (the secret key changed)
// leave tracing off with an error in the log; the server still starts.
// The caller closes the exporter with shutdown.
func newTelemetry(ctx context.Context, cfg config.Config, serverID string, st telemetry.SettingsStore, box *secrets.Box, log *slog.Logger, a *api.API) (observability, []api.Route) {
	var o observability
	o.metrics = telemetry.NewMetrics()
	o.tracing = telemetry.NewTracing(log, o.metrics, telemetry.TracingOptions{
		Attributes: []attribute.KeyValue{attribute.String("service.instance.id", serverID)},
	})
	base := telemetry.Settings{
		Enabled:     cfg.Telemetry.OTLPEndpoint != "",
		Endpoint:    cfg.Telemetry.OTLPEndpoint,
		ServiceName: cfg.Telemetry.ServiceName,
	}
	o.settings = telemetry.NewObservability(st, box, o.tracing, base)
	if err := o.settings.Start(ctx); err != nil {
		log.Error("trace export stays off", "err", err)
	}
	t := &api.TelemetryAPI{API: a, Metrics: o.metrics, Observability: o.settings}
	return o, t.Routes()
}

// shutdown flushes and stops the trace exporter.
func (o observability) shutdown() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return o.tracing.Shutdown(ctx)
}

// instrument gives every request a span and counts it in the metrics.
func (o observability) instrument(h http.Handler) http.Handler {
	return telemetry.Instrument(h, o.metrics, o.tracing)
}

// agentEnv is the environment that makes the agents the server starts
// export their spans with the server's settings (agent.TraceEnv), token
// included: nothing while the server's own export is off.
func (o observability) agentEnv(context.Context) (map[string]string, error) {
	if !o.tracing.Enabled() {
		return agent.TraceEnv(telemetry.Settings{}), nil
	}
	return agent.TraceEnv(o.settings.Settings()), nil
}
