// Package telemetry sets up Dockyard's observability: the structured log
// (log/slog: NewLogger builds the server's logger from the log.level and
// log.format settings, Discard drops everything); Prometheus metrics in a
// registry the server owns (Metrics, with helpers other packages register
// through); OpenTelemetry traces exported over OTLP/HTTP, off by default and
// reconfigured live (Tracing, Observability), with W3C trace context carried
// across hops by Inject and Extract; and Instrument, the HTTP middleware
// that gives every request a span and its metrics.
//
// Dockyard never uses a global logger: every component takes a
// *slog.Logger, and tests pass one that writes to t.Log.
package telemetry

import (
	"io"
	"log/slog"
	"strings"

	"github.com/dockyard/dockyard/internal/errdefs"
)

// ParseLevel parses debug, info, warn or error (any case).
func ParseLevel(level string) (slog.Level, error) {
	switch strings.ToLower(strings.TrimSpace(level)) {
	case "debug":
		return slog.LevelDebug, nil
	case "info":
		return slog.LevelInfo, nil
	case "warn", "warning":
		return slog.LevelWarn, nil
	case "error":
		return slog.LevelError, nil
	}
	return 0, errdefs.Invalidf("log level %q: use debug, info, warn or error", level)
}

// NewLogger returns a logger writing to w at the given level ("debug",
// "info", "warn", "error") in the given format ("text" or "json").
func NewLogger(w io.Writer, level, format string) (*slog.Logger, error) {
	lvl, err := ParseLevel(level)
	if err != nil {
		return nil, err
	}
	opts := &slog.HandlerOptions{Level: lvl}
	switch strings.ToLower(strings.TrimSpace(format)) {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, errdefs.Invalidf("log format %q: use text or json", format)
}

// Discard returns a logger that drops every record.
func Discard() *slog.Logger { return slog.New(slog.DiscardHandler) }
