package agent

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/errdefs/errhttp"
	"github.com/dockyard/dockyard/internal/telemetry"
)

// Handler returns the agent's HTTP handler (the routes in docs/notebooks.md).
func (a *Agent) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	auth := func(pattern string, h http.HandlerFunc) { mux.Handle(pattern, a.authenticate(h)) }
	auth("POST /fit", a.tracked(a.handleFit))
	auth("POST /apply", a.tracked(a.handleApply))
	auth("GET /summary", a.tracked(a.handleSummary))
	auth("POST /summary", a.tracked(a.handleSummary))
	auth("POST /v1/fit/stream", a.tracked(a.handleFitStream))
	auth("POST /v1/apply/stream", a.tracked(a.handleApplyStream))
	auth("GET /v1/notebooks", a.handleNotebookList)
	auth("GET /v1/notebooks/{name}", a.handleNotebookGet)
	auth("PUT /v1/notebooks/{name}", a.handleNotebookPut)
	auth("PUT /v1/pinned/{name}", a.handlePinnedPut)
	auth("GET /v1/model/files", a.handleModelList)
	auth("GET /v1/model/files/{path...}", a.handleModelGet)
	auth("PUT /v1/model/files/{path...}", a.handleModelPut)
	auth("DELETE /v1/model/files/{path...}", a.handleModelDelete)
	auth("GET /v1/info", a.handleInfo)
	auth("GET /v1/changes", a.handleChanges)
	auth("GET /v1/jupyter", a.handleJupyterStatus)
	auth("/jupyter/", a.handleJupyter)
	// Anything else still needs the token, so that unknown paths do not
	// tell an unauthenticated caller what exists.
	auth("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, errdefs.NotFound("no such endpoint: "+r.Method+" "+r.URL.Path))
	})
	// Each request is a server span continuing the caller's trace
	// (traceparent), named after its route; health probes are not traced.
	logged := a.logRequests(mux)
	traced := telemetry.Instrument(logged, nil, a.cfg.Tracing)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/healthz" {
			logged.ServeHTTP(w, r)
			return
		}
		traced.ServeHTTP(w, r)
	})
}

func (a *Agent) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := r.Header.Get("Authorization")
		tok, ok := strings.CutPrefix(h, "Bearer ")
		sum := sha256.Sum256([]byte(strings.TrimSpace(tok)))
		if !ok || subtle.ConstantTimeCompare(sum[:], a.tokenHash[:]) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="dockyard-agent"`)
			writeError(w, errdefs.Unauthenticated("missing or wrong bearer token: send Authorization: Bearer <the container's API token>"))
			return
		}
		next.ServeHTTP(w, r)
	})
}

type statusWriter struct {
	http.ResponseWriter
	code int
}

func (s *statusWriter) WriteHeader(code int) {
	if s.code == 0 {
		s.code = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

func (a *Agent) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		if sw.code == 0 {
			sw.code = http.StatusOK
		}
		if r.URL.Path != "/healthz" {
			a.log.Info("request", "method", r.Method, "path", r.URL.Path, "status", sw.code, "duration", time.Since(start).Round(time.Millisecond))
		}
	})
}

// answer is the seed-compatible answer of /fit, /apply and /summary, with
// Dockyard's additions after Results.
type answer struct {
	Status     string          `json:"status"`
	Message    string          `json:"message"`
	Code       string          `json:"code,omitempty"` // of an error: errhttp's code string
	Results    string          `json:"results,omitempty"`
	Summary    json.RawMessage `json:"summary,omitempty"`
	Messages   []string        `json:"messages,omitempty"`
	Rows       int             `json:"rows,omitempty"`
	ResultRows int             `json:"result_rows,omitempty"`
	FitInfo    json.RawMessage `json:"fit_info,omitempty"`
	Files      []FileInfo      `json:"files,omitempty"`
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// tooLarge reports whether err is a request body over its limit (answered
// 413 by the one mapping of error kinds to statuses, errhttp).
func tooLarge(err error) bool { return errhttp.Of(err) == errhttp.TooLarge }

// writeError answers {"status": "error", "message": ..., "code": ...} with
// the status and code of err's kind (errhttp).
func writeError(w http.ResponseWriter, err error) {
	msg := err.Error()
	e := errhttp.Of(err)
	if e == errhttp.TooLarge {
		msg = "request body is larger than the agent's limit; send fewer rows per request or use /v1/fit/stream"
	}
	writeJSON(w, e.Status, answer{Status: "error", Message: msg, Code: e.Code})
}
