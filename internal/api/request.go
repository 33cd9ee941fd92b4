package api

import (
	"context"
	"fmt"
	"net/http"
	"runtime/debug"
	"sync"

	"github.com/dockyard/dockyard/internal/audit"
)

// serveRecover serves the request, turning a panic into an internal error
// (logged with its stack by writeError) rather than a dropped connection.
func (a *API) serveRecover(w *guardWriter, r *http.Request, rt Route) (err error) {
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			err = fmt.Errorf("panic: %v\n%s", v, debug.Stack())
			if w.wrote {
				a.logInternal(r, err)
				panic(http.ErrAbortHandler)
			}
		}
	}()
	return a.serve(w, r, rt)
}

// reqState is what the API learns about a request while serving it.
type reqState struct {
	route string
	user  string // set once authenticated

	mu       sync.Mutex
	auditErr error // the first audit event that could not be recorded
}

func (st *reqState) failAudit(err error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.auditErr == nil {
		st.auditErr = err
	}
}

func (st *reqState) auditFailure() error {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.auditErr
}

// FailRequests wraps the server's Recorder so that an audit event that
// cannot be recorded fails the API request it was recorded for (found
// through ctx), even where the code that recorded it, deep in a service,
// only logs the error.
func FailRequests(next audit.Recorder) audit.Recorder { return requestRecorder{next} }

type requestRecorder struct{ next audit.Recorder }

func (r requestRecorder) Record(ctx context.Context, e audit.Event) error {
	err := r.next.Record(ctx, e)
	if err != nil {
		if st := stateOf(ctx); st != nil {
			st.failAudit(fmt.Errorf("audit event %q: %w", e.Action, err))
		}
	}
	return err
}

type reqStateKey struct{}

func stateOf(ctx context.Context) *reqState {
	st, _ := ctx.Value(reqStateKey{}).(*reqState)
	return st
}

// guardWriter holds back a handler's answer once one of its audit events
// failed: the request then answers the audit failure instead.
type guardWriter struct {
	http.ResponseWriter
	st       *reqState
	wrote    bool // a status or body has been sent
	released bool // the API's own error answer: never held back
}

func (g *guardWriter) held() bool { return !g.released && !g.wrote && g.st.auditFailure() != nil }

func (g *guardWriter) WriteHeader(code int) {
	if g.held() {
		return
	}
	g.wrote = true
	g.ResponseWriter.WriteHeader(code)
}

func (g *guardWriter) Write(b []byte) (int, error) {
	if g.held() {
		return len(b), nil
	}
	g.wrote = true
	return g.ResponseWriter.Write(b)
}

// Flush passes flushes through (streamed answers).
func (g *guardWriter) Flush() {
	if g.held() {
		return
	}
	if f, ok := g.ResponseWriter.(http.Flusher); ok {
		g.wrote = true
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the connection.
func (g *guardWriter) Unwrap() http.ResponseWriter { return g.ResponseWriter }
