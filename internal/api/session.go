package api

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/dockyard/dockyard/internal/access"
	"github.com/dockyard/dockyard/internal/audit"
	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/errdefs/errhttp"
	"github.com/dockyard/dockyard/internal/wire"
)

// The web console's session: the secret of an access session token (the
// same kind `POST /v1/login` makes, hashed at rest, expiring, revoked on
// logout) kept in a cookie. Routes marked Browser accept it as well as a
// bearer token; the /v1 API routes accept only the bearer token, so a
// browser's ambient credential never reaches them.
const (
	// SessionCookie names the cookie that holds the session secret
	// (HttpOnly, Secure, SameSite=Strict, Path=/).
	SessionCookie = "dockyard_session"
	// CSRFField is the form field (or, for scripts, the X-CSRF-Token
	// header) that carries the session's CSRF token.
	CSRFField  = "csrf"
	csrfHeader = "X-CSRF-Token"
	// maxForm bounds a form body of a Page route.
	maxForm = 1 << 20
)

var errCSRF = errdefs.PermissionDenied("this form's CSRF token is missing or does not match the session: reload the page and send the form again")

// CSRFToken is the CSRF token of the session whose cookie holds secret:
// an HMAC of a fixed label keyed by the secret, so it is per session,
// needs no storage, and cannot be made without the cookie (which
// SameSite=Strict and HttpOnly keep from other sites and from scripts).
func CSRFToken(secret string) string {
	if secret == "" {
		return ""
	}
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte("dockyard web console csrf v1"))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// SessionSecret is the session cookie's value of r, or "".
func SessionSecret(r *http.Request) string {
	c, err := r.Cookie(SessionCookie)
	if err != nil {
		return ""
	}
	return c.Value
}

// SetSessionCookie sets the session cookie (maxAge seconds; negative
// deletes it).
func SetSessionCookie(w http.ResponseWriter, secret string, maxAge int) {
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: secret, Path: "/", MaxAge: maxAge,
		HttpOnly: true, Secure: true, SameSite: http.SameSiteStrictMode})
}

// safeMethod says whether a request of method changes nothing.
func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// credential is the secret that authenticates r: its bearer token, or on
// a Browser route its session cookie. A state-changing request that
// authenticates by the cookie must come from this server's own origin and,
// on a Page route, carry the session's CSRF token.
func (a *API) credential(r *http.Request, rt Route) (string, error) {
	if s := bearer(r); s != "" {
		return s, nil
	}
	if !rt.Browser && !rt.Page {
		return "", nil
	}
	secret := SessionSecret(r)
	if secret == "" || safeMethod(r.Method) {
		return secret, nil
	}
	if err := sameOrigin(r, rt); err != nil {
		return "", err
	}
	if rt.Page {
		got := r.Header.Get(csrfHeader)
		if got == "" {
			r.Body = http.MaxBytesReader(nil, r.Body, maxForm)
			if err := r.ParseForm(); err != nil {
				return "", errdefs.Invalidf("the form could not be read: %w", err)
			}
			got = r.PostForm.Get(CSRFField)
		}
		if subtle.ConstantTimeCompare([]byte(got), []byte(CSRFToken(secret))) != 1 {
			return "", errCSRF
		}
	}
	return secret, nil
}

// sameOrigin refuses a state-changing request to a Browser or Page route
// that a browser says came from another site: Sec-Fetch-Site other than
// same-origin or none, or an Origin other than this server's.
func sameOrigin(r *http.Request, rt Route) error {
	if (!rt.Browser && !rt.Page) || safeMethod(r.Method) || bearer(r) != "" {
		return nil
	}
	if s := r.Header.Get("Sec-Fetch-Site"); s != "" && s != "same-origin" && s != "none" {
		return errdefs.PermissionDeniedf("cross-site request refused (Sec-Fetch-Site: %s): use the console's own pages", s)
	}
	if o := r.Header.Get("Origin"); o != "" {
		u, err := url.Parse(o)
		if err != nil || u.Host != r.Host {
			return errdefs.PermissionDenied("cross-site request refused (its Origin is not this server): use the console's own pages")
		}
	}
	return nil
}

// answerError answers err: as JSON, or for a Page route not called with a
// bearer token, through PageError.
func (a *API) answerError(w http.ResponseWriter, r *http.Request, rt Route, err error) {
	if rt.Page && a.PageError != nil && bearer(r) == "" {
		status, e := a.errorAnswer(r, err)
		a.PageError(w, r, status, e)
		return
	}
	a.writeError(w, r, err)
}

// Invoke serves one API route in process for the request r, already
// authenticated (its principal in r's context): the route's capability is
// checked as serve does, then its handler runs with r's context (its
// principal, request id and audit state), the path values, query and JSON
// body given, writing to w. The web console calls the API this way, so a
// page shows and does exactly what the API would for its user.
func (a *API) Invoke(w http.ResponseWriter, r *http.Request, method, pattern string, path map[string]string, query url.Values, body any) error {
	a.invokeOnce.Do(func() {
		a.invokeIndex = map[string]*Route{}
		for _, x := range a.Routes() {
			a.invokeIndex[x.Method+" "+x.Pattern] = &x
		}
	})
	rt := a.invokeIndex[method+" "+pattern]
	if rt == nil {
		return errdefs.Internalf("no API route %s %s", method, pattern)
	}
	p := access.FromContext(r.Context())
	if rt.Cap != Public && p == nil {
		return errUnauthenticated("this needs a session: log in")
	}
	if rt.Cap != Public && rt.Cap != Authenticated && !p.Can(rt.Cap) {
		err := errMissingCap(p, rt.Cap)
		a.refused(r, *rt, p.User, err)
		return err
	}
	u := *r.URL
	u.Path = pattern
	for k, v := range path {
		u.Path = strings.ReplaceAll(u.Path, "{"+k+"}", url.PathEscape(v))
	}
	u.RawQuery = query.Encode()
	var rd io.Reader = http.NoBody
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	in, err := http.NewRequestWithContext(r.Context(), method, u.String(), rd)
	if err != nil {
		return err
	}
	in.RemoteAddr, in.Host = r.RemoteAddr, r.Host
	in.Header.Set("Content-Type", "application/json")
	for k, v := range path {
		in.SetPathValue(k, v)
	}
	return rt.Handle(w, in)
}

// Buffer is a ResponseWriter that keeps an answer in memory, for Invoke's
// callers that read a JSON answer.
type Buffer struct {
	Status int
	header http.Header
	bytes.Buffer
}

// Header is the answer's header.
func (b *Buffer) Header() http.Header {
	if b.header == nil {
		b.header = http.Header{}
	}
	return b.header
}

// WriteHeader keeps the status.
func (b *Buffer) WriteHeader(code int) {
	if b.Status == 0 {
		b.Status = code
	}
}

// InvokeJSON is Invoke decoding the route's JSON answer into out (nil: the
// answer is dropped).
func (a *API) InvokeJSON(r *http.Request, method, pattern string, path map[string]string, query url.Values, body, out any) error {
	var b Buffer
	if err := a.Invoke(&b, r, method, pattern, path, query, body); err != nil {
		return err
	}
	if out == nil || b.Len() == 0 {
		return nil
	}
	if err := json.Unmarshal(b.Bytes(), out); err != nil {
		return errdefs.Internalf("decoding the answer of %s %s: %w", method, pattern, err)
	}
	return nil
}

// Record writes an audit event for r as the API's own handlers do (source,
// request id and user filled in); an event that cannot be recorded fails
// the request.
func (a *API) Record(r *http.Request, e audit.Event) error { return a.recordErr(r, e) }

// errorAnswer is what writeError would send for err: its status and body.
func (a *API) errorAnswer(r *http.Request, err error) (int, wire.Error) {
	var b Buffer
	a.writeError(&b, r, err)
	var e wire.Error
	if json.Unmarshal(b.Bytes(), &e) != nil {
		status, code := errhttp.Status(err)
		return status, wire.Error{Error: http.StatusText(status), Code: code}
	}
	if b.Status == 0 {
		b.Status = http.StatusInternalServerError
	}
	return b.Status, e
}
