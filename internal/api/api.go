// Package api is Dockyard's HTTP API: every route declares the capability
// it needs, and one path handles every request: authenticate → authorize the
// capability → act (services check object ACLs) → audit. Errors of the
// errdefs kinds are mapped to HTTP status codes here and nowhere else.
package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/dockyard/dockyard/internal/access"
	"github.com/dockyard/dockyard/internal/audit"
	"github.com/dockyard/dockyard/internal/wire"
)

// Pseudo-capabilities a route may declare instead of a real capability.
// They are still declarations: a route that declares nothing is refused by
// the route-walk test.
const (
	// Public routes need no authentication (health, login).
	Public access.Capability = "(public)"
	// Authenticated routes need a valid token but no capability (whoami,
	// logout); object ACLs still apply inside.
	Authenticated access.Capability = "(authenticated)"
)

// HandlerFunc is a route's handler. A returned error becomes the answer.
type HandlerFunc func(w http.ResponseWriter, r *http.Request) error

// Route is one endpoint and the capability it needs.
type Route struct {
	Method  string
	Pattern string // net/http ServeMux pattern, without the method
	Cap     access.Capability
	Action  string // audit action name for refusals, e.g. "user.create"
	Handle  HandlerFunc
	// Browser routes also accept the session cookie of the web console
	// (see session.go): a state-changing request so authenticated must
	// come from the server's own origin.
	Browser bool
	// Page routes are the web console's: Browser routes whose errors are
	// HTML pages and whose forms carry the session's CSRF token. They are
	// not part of the OpenAPI description.
	Page bool
}

// Authenticator turns a bearer secret into a principal.
type Authenticator interface {
	Authenticate(ctx context.Context, secret, app string) (*access.Principal, error)
}

// API serves the routes. Fields are set by the server before Handler.
type API struct {
	Access *access.Service
	Audit  audit.Recorder
	Log    *slog.Logger
	// Extra routes mounted by other parts of the server.
	Extra []Route
	// Mounts are handlers with their own authentication (the HTTP Event
	// Collector), keyed by ServeMux pattern.
	Mounts map[string]http.Handler
	// Version is the server's version, shown in the OpenAPI description
	// (default: the build's module version).
	Version string
	// PageError, when set, answers the errors of Page routes that were not
	// authenticated by a bearer token (the web console renders them).
	PageError func(w http.ResponseWriter, r *http.Request, status int, e wire.Error)

	openapi openapiCache
	// invokeIndex finds Invoke's routes (built on the first call, when
	// every route has been added).
	invokeOnce  sync.Once
	invokeIndex map[string]*Route
}

// Routes lists every route the API serves.
func (a *API) Routes() []Route {
	var rs []Route
	rs = append(rs, a.systemRoutes()...)
	rs = append(rs, a.accessRoutes()...)
	rs = append(rs, a.appRoutes()...)
	rs = append(rs, a.Extra...)
	return rs
}

// Handler returns the HTTP handler for every route.
func (a *API) Handler() http.Handler {
	mux := http.NewServeMux()
	for _, rt := range a.Routes() {
		mux.Handle(rt.Method+" "+rt.Pattern, a.wrap(rt))
	}
	for pattern, h := range a.Mounts {
		mux.Handle(pattern, h)
	}
	notFound := func(w http.ResponseWriter, r *http.Request) error { return notFoundRoute(r) }
	mux.Handle("/v1/", a.wrap(Route{Cap: Public, Handle: notFound}))
	// Outside /v1 a browser gets the web console's not-found page.
	mux.Handle("/", a.wrap(Route{Cap: Public, Page: true, Handle: notFound}))
	return mux
}

type requestIDKey struct{}

// RequestID returns the id the API gave this request.
func RequestID(ctx context.Context) string {
	s, _ := ctx.Value(requestIDKey{}).(string)
	return s
}

func newRequestID() string {
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// remoteHost is the client's address without the port.
func remoteHost(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// bearer extracts the token of an "Authorization: Bearer" header.
func bearer(r *http.Request) string {
	h := r.Header.Get("Authorization")
	if t, ok := strings.CutPrefix(h, "Bearer "); ok {
		return strings.TrimSpace(t)
	}
	return ""
}

func (a *API) wrap(rt Route) http.Handler {
	route := rt.Method + " " + rt.Pattern
	if rt.Pattern == "" {
		route = "(no route)"
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := newRequestID()
		w.Header().Set("X-Request-Id", id)
		st := &reqState{route: route}
		ctx := context.WithValue(r.Context(), requestIDKey{}, id)
		ctx = audit.WithRequest(ctx, audit.Request{Source: remoteHost(r), ID: id})
		ctx = context.WithValue(ctx, reqStateKey{}, st)
		r = r.WithContext(ctx)
		gw := &guardWriter{ResponseWriter: w, st: st}
		err := a.serveRecover(gw, r, rt)
		if aerr := st.auditFailure(); aerr != nil && err != nil && errors.Is(err, audit.ErrTxFailed) {
			// A service's change was rolled back with its event.
			err = &auditFailed{err: aerr, undone: true}
		} else if err == nil && aerr != nil {
			if gw.wrote {
				// The answer left before the event was recorded (a
				// streamed search's last event): only the log can tell.
				a.Log.Error("audit event not recorded after the answer was sent", "request_id", id, "route", route,
					"user", st.user, "err", aerr.Error(), "causes", causeChain(aerr))
			} else {
				err = &auditFailed{err: aerr}
			}
		}
		if err != nil {
			gw.released = true
			a.answerError(gw, r, rt, err)
		}
		a.Log.Debug("request", "method", r.Method, "path", r.URL.Path, "id", id,
			"user", st.user, "err", err, "took", time.Since(start))
	})
}

func (a *API) serve(w http.ResponseWriter, r *http.Request, rt Route) error {
	if rt.Cap == Public {
		if err := sameOrigin(r, rt); err != nil {
			a.refused(r, rt, "", err)
			return err
		}
		return rt.Handle(w, r)
	}
	secret, err := a.credential(r, rt)
	if err != nil {
		a.refused(r, rt, "", err)
		return err
	}
	if secret == "" {
		err := errUnauthenticated("this request needs a token: log in with `dockyard login` or pass --token")
		a.refused(r, rt, "", err)
		return err
	}
	p, err := a.Access.Authenticate(r.Context(), secret, r.Header.Get("Dockyard-App"))
	if err != nil {
		a.refused(r, rt, "", err)
		return err
	}
	r = r.WithContext(access.WithPrincipal(r.Context(), p))
	if st := stateOf(r.Context()); st != nil {
		st.user = p.User
	}
	if rt.Cap != Authenticated && !p.Can(rt.Cap) {
		err := errMissingCap(p, rt.Cap)
		a.refused(r, rt, p.User, err)
		return err
	}
	return rt.Handle(w, r)
}

// refused audits a request turned away before it acted.
func (a *API) refused(r *http.Request, rt Route, user string, err error) {
	action := rt.Action
	if action == "" {
		action = strings.ToLower(r.Method) + " " + r.URL.Path
	}
	a.record(r, audit.Event{User: user, Action: action, Result: audit.ResultDenied, Message: err.Error()})
}

// record writes an audit event with the request's source and id filled in.
// When the event cannot be recorded, the request fails: its answer is held
// back and replaced by a 500 naming the audit failure (see wrap).
func (a *API) record(r *http.Request, e audit.Event) {
	if err := a.recordErr(r, e); err != nil {
		if st := stateOf(r.Context()); st != nil {
			st.failAudit(err)
		}
	}
}

// recordErr writes an audit event and returns the error when it could not
// be recorded (logged here too), for handlers that must not act without
// their event (a search records its start before it runs).
func (a *API) recordErr(r *http.Request, e audit.Event) error {
	if a.Audit == nil {
		return nil
	}
	ctx := r.Context()
	if e.User == "" {
		e.User = userOf(ctx)
	}
	if e.App == "" {
		if p := access.FromContext(ctx); p != nil {
			e.App = p.App
		}
	}
	e.Source = remoteHost(r)
	e.RequestID = RequestID(ctx)
	if e.Result == "" {
		e.Result = audit.ResultSuccess
	}
	if err := a.Audit.Record(context.WithoutCancel(ctx), e); err != nil {
		a.Log.Error("audit event not recorded", "action", e.Action, "request_id", e.RequestID, "err", err)
		err = fmt.Errorf("audit event %q: %w", e.Action, err)
		if st := stateOf(ctx); st != nil {
			st.failAudit(err)
		}
		return err
	}
	return nil
}

// userOf is the authenticated user of the request, or "".
func userOf(ctx context.Context) string {
	if p := access.FromContext(ctx); p != nil {
		return p.User
	}
	if st := stateOf(ctx); st != nil {
		return st.user
	}
	return ""
}
