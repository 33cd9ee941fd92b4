package web

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"strings"
	"time"

	"github.com/dockyard/dockyard/internal/api"
	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/errdefs/errhttp"
	"github.com/dockyard/dockyard/internal/wire"
)

// loginCookie holds the login form's CSRF token (a double-submit token:
// there is no session yet to derive one from).
const loginCookie = "dockyard_login"

func notFound(msg string) error { return errdefs.NotFound(msg) }

func (c *Console) sessionRoutes() []api.Route {
	return []api.Route{
		page("GET", "/login", api.Public, "", c.loginForm),
		page("POST", "/login", api.Public, "login", c.login),
		page("POST", "/logout", api.Authenticated, "logout", c.logout),
	}
}

type loginData struct {
	Next, User, Token, Error string
}

// localNext is next when it is a path on this server, else "/".
func localNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		return "/"
	}
	return next
}

func (c *Console) loginForm(w http.ResponseWriter, r *http.Request) error {
	return c.showLogin(w, r, http.StatusOK, loginData{Next: localNext(r.URL.Query().Get("next"))})
}

func (c *Console) showLogin(w http.ResponseWriter, r *http.Request, status int, d loginData) error {
	var b [24]byte
	rand.Read(b[:])
	d.Token = base64.RawURLEncoding.EncodeToString(b[:])
	http.SetCookie(w, &http.Cookie{Name: loginCookie, Value: d.Token, Path: "/login", MaxAge: 3600,
		HttpOnly: true, Secure: true, SameSite: http.SameSiteStrictMode})
	return c.render(w, r, status, "login", "Log in", d)
}

// login checks the password through the API's own login route (the same
// throttling, the same session token, the same audit event) and keeps the
// session secret in the cookie.
func (c *Console) login(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		return errdefs.Invalidf("the login form could not be read: %w", err)
	}
	d := loginData{Next: localNext(r.PostForm.Get("next")), User: r.PostForm.Get("user")}
	ck, err := r.Cookie(loginCookie)
	if err != nil || ck.Value == "" || subtle.ConstantTimeCompare([]byte(ck.Value), []byte(r.PostForm.Get(api.CSRFField))) != 1 {
		d.Error = "the login form expired or did not come from this page: log in again"
		return c.showLogin(w, r, http.StatusForbidden, d)
	}
	var resp wire.LoginResponse
	err = c.api.InvokeJSON(r, "POST", "/v1/login", nil, nil,
		wire.LoginRequest{User: d.User, Password: r.PostForm.Get("password")}, &resp)
	if err != nil {
		status, _ := errhttp.Status(err)
		if status >= 500 {
			return err
		}
		d.Error = err.Error()
		return c.showLogin(w, r, status, d)
	}
	age := int(time.Until(resp.Expires).Seconds())
	if resp.Expires.IsZero() {
		age = 0 // a browser session
	}
	api.SetSessionCookie(w, resp.Token, age)
	http.SetCookie(w, &http.Cookie{Name: loginCookie, Path: "/login", MaxAge: -1, HttpOnly: true, Secure: true, SameSite: http.SameSiteStrictMode})
	http.Redirect(w, r, d.Next, http.StatusSeeOther)
	return nil
}

// logout revokes the session token through the API's logout route and
// drops the cookie.
func (c *Console) logout(w http.ResponseWriter, r *http.Request) error {
	if err := c.api.InvokeJSON(r, "POST", "/v1/logout", nil, nil, nil, nil); err != nil {
		return err
	}
	api.SetSessionCookie(w, "", -1)
	http.Redirect(w, r, "/login", http.StatusSeeOther)
	return nil
}
