package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/dockyard/dockyard/internal/access"
	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/errdefs/errhttp"
	"github.com/dockyard/dockyard/internal/wire"
)

func errUnauthenticated(msg string) error { return errdefs.Unauthenticated(msg) }

// errMissingCap is the 403 answer that names the capability a route needs.
func errMissingCap(p *access.Principal, c access.Capability) error {
	return errdefs.PermissionDeniedf(
		"permission denied: this needs the capability %q, which your roles (%s) do not grant; ask an administrator for a role that has it",
		c, strings.Join(p.Roles, ", "))
}

func notFoundRoute(r *http.Request) error {
	return errdefs.NotFoundf("no such endpoint: %s %s", r.Method, r.URL.Path)
}

// statusOf maps an error to an HTTP status and a wire code: by the one
// table of the protocol (errhttp), except that a full disk is answered
// with errhttp.DiskFull whatever the error's kind.
func statusOf(err error) (int, string) {
	if diskFull(err) {
		return errhttp.DiskFull.Status, errhttp.DiskFull.Code
	}
	return errhttp.Status(err)
}

// auditFailed is the error of a request whose audit event could not be
// recorded: it fails, whatever it did. undone says its change was rolled
// back with the event (it ran in a store transaction).
type auditFailed struct {
	err    error
	undone bool
}

func (e *auditFailed) Error() string {
	return "its audit event could not be recorded: " + e.err.Error()
}
func (e *auditFailed) Unwrap() error { return e.err }

// writeError answers err. A 500 is logged here, once, with the request id,
// route, user and the whole cause chain; the client sees only the id.
func (a *API) writeError(w http.ResponseWriter, r *http.Request, err error) {
	status, code := statusOf(err)
	msg := err.Error()
	var af *auditFailed
	if errors.As(err, &af) {
		status, code = errhttp.Internal.Status, errhttp.Internal.Code
	}
	if status == http.StatusInternalServerError {
		a.logInternal(r, err)
		// Internal details stay in the server log; the client gets the id.
		msg = "internal error; the server log has the details under request id " + RequestID(r.Context())
		if af != nil && af.undone {
			msg = "this request failed because its audit event could not be recorded, so its change was not made; " +
				"the server log has the details under request id " + RequestID(r.Context())
		} else if af != nil {
			msg = "this request failed because its audit event could not be recorded (what it changed may have been made); " +
				"the server log has the details under request id " + RequestID(r.Context())
		}
	}
	if status == http.StatusInsufficientStorage {
		msg = diskFullMessage(r)
		a.Log.Error("request failed: the disk is full", "request_id", RequestID(r.Context()), "method", r.Method,
			"path", r.URL.Path, "user", userOf(r.Context()), "err", err.Error(), "causes", causeChain(err))
	}
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="dockyard"`)
	}
	writeJSON(w, status, wire.Error{Error: msg, Code: code, RequestID: RequestID(r.Context())})
}

// logInternal logs an internal error with what an operator needs to find
// and understand it.
func (a *API) logInternal(r *http.Request, err error) {
	route, user := r.Method+" "+r.URL.Path, userOf(r.Context())
	if st := stateOf(r.Context()); st != nil {
		route = st.route
		if st.user != "" {
			user = st.user
		}
	}
	a.Log.Error("internal error", "request_id", RequestID(r.Context()), "route", route, "path", r.URL.Path,
		"user", user, "err", err.Error(), "causes", causeChain(err))
}

// causeChain lists err and every error it wraps, outermost first, each as
// "TYPE: message", so that the log shows where each layer came from.
func causeChain(err error) []string {
	var out []string
	var walk func(e error)
	walk = func(e error) {
		for e != nil && len(out) < 32 {
			out = append(out, fmt.Sprintf("%T: %v", e, e))
			switch u := e.(type) {
			case interface{ Unwrap() []error }:
				for _, x := range u.Unwrap() {
					walk(x)
				}
				return
			case interface{ Unwrap() error }:
				e = u.Unwrap()
			default:
				return
			}
		}
	}
	walk(err)
	return out
}

func writeJSON(w http.ResponseWriter, status int, v any) error {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// maxBody bounds JSON request bodies.
const maxBody = 1 << 20

// decode reads a JSON body into v with a size limit and unknown fields
// refused, so a typo in a field name is an error rather than ignored.
func decode(w http.ResponseWriter, r *http.Request, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			// Answered 413 too_large (errhttp.TooLarge), as everywhere.
			return errdefs.Wrap(errdefs.ErrLimit, mbe, fmt.Sprintf("request body is larger than %d bytes: send a smaller one", maxBody))
		}
		return errdefs.Invalidf("request body is not valid JSON for this endpoint: %w", err)
	}
	return nil
}
