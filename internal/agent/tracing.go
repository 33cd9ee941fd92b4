package agent

import (
	"context"
	"log/slog"
	"os"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/dockyard/dockyard/internal/agent/runner"
	"github.com/dockyard/dockyard/internal/telemetry"
)

// Environment variables the server passes to an agent it starts. The
// trace-export ones are read and removed by Main before the notebook runner
// starts, so notebooks never see the collector's token; the HEC ones are
// left for notebooks (docs/notebooks.md).
const (
	EnvTraceEndpoint    = "DOCKYARD_OTEL_ENDPOINT"     // the collector; set only while trace export is on
	EnvTraceToken       = "DOCKYARD_OTEL_TOKEN"        // its access token (a secret)
	EnvTraceTokenHeader = "DOCKYARD_OTEL_TOKEN_HEADER" // the header carrying the token
	EnvTraceServiceName = "DOCKYARD_OTEL_SERVICE_NAME" // the agent's service.name

	EnvHECURL    = "DOCKYARD_HEC_URL"     // the server's HTTP Event Collector (https://HOST:PORT/services/collector)
	EnvHECToken  = "DOCKYARD_HEC_TOKEN"   // a HEC token for the owner's indexes (a secret)
	EnvHECIndex  = "DOCKYARD_HEC_INDEX"   // the token's default index
	EnvHECCAFile = "DOCKYARD_HEC_CA_FILE" // PEM file of the CA that verifies the server, when it is not a public one
	EnvContainer = "DOCKYARD_CONTAINER"   // the container's runtime name (set by the process runtime)
)

// AgentServiceSuffix is appended to the server's service.name to name the
// agents' service, so that a trace shows which hops ran in a container.
const AgentServiceSuffix = ".agent"

// TraceEnv returns the environment that makes an agent export its spans
// with the server's settings s: nothing while export is off. The values
// include the token: pass them only through a process environment, never
// a command line, a log or a stored record.
func TraceEnv(s telemetry.Settings) map[string]string {
	if !s.Enabled || strings.TrimSpace(s.Endpoint) == "" {
		return nil
	}
	name := s.ServiceName
	if name == "" {
		name = telemetry.Namespace
	}
	env := map[string]string{EnvTraceEndpoint: s.Endpoint, EnvTraceServiceName: name + AgentServiceSuffix}
	if s.Token != "" {
		env[EnvTraceToken] = s.Token
	}
	if s.TokenHeader != "" {
		env[EnvTraceTokenHeader] = s.TokenHeader
	}
	return env
}

// TraceSettingsFromEnv reads what TraceEnv wrote; Enabled is false when no
// endpoint is set.
func TraceSettingsFromEnv(getenv func(string) string) telemetry.Settings {
	s := telemetry.Settings{
		Endpoint:    strings.TrimSpace(getenv(EnvTraceEndpoint)),
		Token:       strings.TrimSpace(getenv(EnvTraceToken)),
		TokenHeader: strings.TrimSpace(getenv(EnvTraceTokenHeader)),
		ServiceName: strings.TrimSpace(getenv(EnvTraceServiceName)),
	}
	s.Enabled = s.Endpoint != ""
	if s.ServiceName == "" {
		s.ServiceName = telemetry.Namespace + AgentServiceSuffix
	}
	return s
}

// tracingFromEnv builds the agent's trace exporter from the environment
// and removes the trace variables from it, so that the notebook runner
// (which inherits the environment) never holds the token. It returns nil
// (tracing off) when export is off or its settings are refused; the
// refusal is logged without the token.
func tracingFromEnv(ctx context.Context, log *slog.Logger) *telemetry.Tracing {
	s := TraceSettingsFromEnv(os.Getenv)
	for _, k := range []string{EnvTraceEndpoint, EnvTraceToken, EnvTraceTokenHeader, EnvTraceServiceName} {
		os.Unsetenv(k)
	}
	if !s.Enabled {
		return nil
	}
	attrs := []attribute.KeyValue{attribute.String("dockyard.role", "agent")}
	if c := os.Getenv(EnvContainer); c != "" {
		attrs = append(attrs, attribute.String("dockyard.container", c))
	}
	t := telemetry.NewTracing(log, nil, telemetry.TracingOptions{BatchTimeout: time.Second, ExportTimeout: 10 * time.Second, Attributes: attrs})
	if err := t.Configure(ctx, s); err != nil {
		log.Warn("trace export stays off: the settings passed by the server are refused", "err", err)
		return nil
	}
	return t
}

// tracerName names the agent's instrumentation scope.
const tracerName = "github.com/dockyard/dockyard/internal/agent"

// call runs one runner call as a span ("runner OP") that is a child of
// ctx's span, with one child span per step the runner reports (init, fit,
// save, load, apply), and passes events on to onEvent.
func (a *Agent) call(ctx context.Context, rn *runner.Runner, req runner.Request, onEvent func(runner.Event)) (runner.Result, error) {
	tr := a.cfg.Tracing.Tracer(tracerName)
	ctx, span := tr.Start(ctx, "runner "+req.Op, trace.WithAttributes(
		attribute.String("dockyard.notebook", req.Notebook),
		attribute.String("dockyard.op", req.Op),
		attribute.Int64("dockyard.rows_in", req.Rows),
	))
	defer span.End()
	var step trace.Span
	endStep := func() {
		if step != nil {
			step.End()
			step = nil
		}
	}
	res, err := rn.Call(ctx, req, func(ev runner.Event) {
		if ev.Type == "progress" && ev.Step != "" && span.IsRecording() {
			endStep()
			_, step = tr.Start(ctx, "notebook "+ev.Step, trace.WithAttributes(attribute.String("dockyard.step", ev.Step)))
		}
		if onEvent != nil {
			onEvent(ev)
		}
	})
	endStep()
	if !span.IsRecording() {
		return res, err
	}
	switch {
	case err != nil:
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
	case res.Status != "success":
		span.SetStatus(codes.Error, "notebook "+req.Op+" failed")
	}
	span.SetAttributes(attribute.String("dockyard.status", res.Status), attribute.Int("dockyard.rows", res.Rows),
		attribute.Int("dockyard.result_rows", res.ResultRows))
	for k, v := range res.Timings {
		span.SetAttributes(attribute.Float64("dockyard.timing."+k+"_seconds", v))
	}
	return res, err
}
