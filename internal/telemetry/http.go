package telemetry

import (
	"bufio"
	"errors"
	"net"
	"net/http"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// Unmatched is the route label of requests no route pattern matched, so
// that unknown paths cannot grow the number of metric series.
const Unmatched = "unmatched"

// tracerName names the instrumentation scope of the server's spans.
const tracerName = "github.com/dockyard/dockyard/internal/telemetry"

// Instrument wraps an http.Handler built on a Go 1.22+ http.ServeMux: each
// request gets a server span (continuing a W3C traceparent the caller
// sent) and is counted in m by route pattern, method and status. The route
// is the ServeMux pattern that matched (r.Pattern, known once the mux has
// run), never the raw path; requests that matched none count as
// "unmatched". Answers of POST /v1/login other than 2xx count as login
// failures. Either of m and t may be nil.
func Instrument(next http.Handler, m *Metrics, t *Tracing) http.Handler {
	tracer := t.Tracer(tracerName)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		if m != nil {
			m.inFlight.Inc()
			defer m.inFlight.Dec()
		}
		ctx := Extract(r.Context(), r.Header)
		ctx, span := tracer.Start(ctx, "HTTP "+r.Method, trace.WithSpanKind(trace.SpanKindServer))
		defer span.End()
		rw := &StatusWriter{ResponseWriter: w}
		r2 := r.WithContext(ctx) // the mux sets r2.Pattern
		next.ServeHTTP(rw, r2)

		route := routeOf(r2.Pattern)
		method := methodLabel(r.Method)
		code := rw.Code()
		m.ObserveRequest(route, method, code, time.Since(start))
		if route == "/v1/login" && r.Method == http.MethodPost && code/100 != 2 {
			m.LoginFailed()
		}
		if span.IsRecording() {
			span.SetName(method + " " + route)
			span.SetAttributes(
				attribute.String("http.request.method", method),
				attribute.String("http.route", route),
				attribute.String("url.path", r.URL.Path),
				attribute.Int("http.response.status_code", code),
				attribute.String("client.address", clientHost(r.RemoteAddr)),
				attribute.String("user_agent.original", r.UserAgent()),
			)
			if id := rw.Header().Get("X-Request-Id"); id != "" {
				span.SetAttributes(attribute.String("dockyard.request_id", id))
			}
			if code >= 500 {
				span.SetStatus(codes.Error, http.StatusText(code))
			}
		}
	})
}

// routeOf turns a ServeMux pattern ("GET /v1/models/{name}") into the
// route label ("/v1/models/{name}").
func routeOf(pattern string) string {
	if pattern == "" {
		return Unmatched
	}
	if i := strings.IndexByte(pattern, ' '); i >= 0 {
		pattern = strings.TrimSpace(pattern[i+1:])
	}
	return pattern
}

// methodLabel keeps the method label's values to the standard methods.
func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return m
	}
	return "OTHER"
}

func clientHost(addr string) string {
	if h, _, err := net.SplitHostPort(addr); err == nil {
		return h
	}
	return addr
}

// StatusWriter records the status code of an answer and keeps streaming
// working: it forwards Flush, lets protocol upgrades through and lets
// http.ResponseController reach the connection. Wrap a ResponseWriter in
// it and read Code after the handler returns.
type StatusWriter struct {
	http.ResponseWriter
	status int
}

func (w *StatusWriter) WriteHeader(code int) {
	if w.status == 0 && code >= 200 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *StatusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *StatusWriter) Flush() {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Hijack lets protocol upgrades through the wrapper.
func (w *StatusWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	if h, ok := w.ResponseWriter.(http.Hijacker); ok {
		return h.Hijack()
	}
	return nil, nil, errors.New("telemetry: the response writer cannot be hijacked")
}

// Unwrap gives http.ResponseController the underlying writer.
func (w *StatusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Code is the status the answer had (200 when the handler wrote nothing).
func (w *StatusWriter) Code() int {
	if w.status == 0 {
		return http.StatusOK
	}
	return w.status
}
