// Package web is Dockyard's web console: server-rendered HTML pages
// (html/template, assets embedded in the binary, no script at all) for
// data scientists and administrators, served by the API's own handler.
//
// Every page is an api.Route marked Page, so it declares its capability
// like any API route and goes the one authorisation path: authenticate
// (the session cookie, or a bearer token) → authorize the capability →
// act → audit. A page acts only by calling API routes in process
// (api.API.Invoke) with the session's principal, so it shows and does
// exactly what the API would for the same user: hidden models never
// appear, and an action the API refuses is refused here too. See
// docs/web.md.
package web

import (
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/dockyard/dockyard/internal/access"
	"github.com/dockyard/dockyard/internal/api"
	"github.com/dockyard/dockyard/internal/wire"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// ContentSecurityPolicy is sent with every page: nothing but the server's
// own stylesheet and images; no script, inline or not; no framing.
const ContentSecurityPolicy = "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; " +
	"frame-ancestors 'none'; base-uri 'none'"

// Console serves the web console's pages.
type Console struct {
	api   *api.API
	log   *slog.Logger
	pages map[string]*template.Template
}

// New parses the templates; the pages call the API a.
func New(a *api.API, log *slog.Logger) (*Console, error) {
	c := &Console{api: a, log: log, pages: map[string]*template.Template{}}
	base, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html")
	if err != nil {
		return nil, fmt.Errorf("web templates: %w", err)
	}
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	for _, n := range names {
		name := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
		if name == "layout" {
			continue
		}
		t, err := template.Must(base.Clone()).ParseFS(templateFS, n)
		if err != nil {
			return nil, fmt.Errorf("web template %s: %w", n, err)
		}
		c.pages[name] = t
	}
	return c, nil
}

// page makes a Page route whose answers carry the console's headers.
func page(method, pattern string, capability access.Capability, action string, h api.HandlerFunc) api.Route {
	return api.Route{Method: method, Pattern: pattern, Cap: capability, Action: action, Page: true, Browser: true,
		Handle: func(w http.ResponseWriter, r *http.Request) error {
			secure(w)
			return h(w, r)
		}}
}

// Routes lists the console's pages, each with the capability it needs.
// A page that shows only what the API filters per caller (models,
// notebooks) needs authentication only, as the API route does.
func (c *Console) Routes() []api.Route {
	rs := []api.Route{
		page("GET", "/{$}", api.Authenticated, "web.home", c.home),
		page("GET", "/static/{file}", api.Public, "", c.static),
	}
	rs = append(rs, c.sessionRoutes()...)
	rs = append(rs, c.modelRoutes()...)
	rs = append(rs, c.containerRoutes()...)
	rs = append(rs, c.searchRoutes()...)
	rs = append(rs, c.notebookRoutes()...)
	rs = append(rs, c.auditRoutes()...)
	rs = append(rs, c.adminRoutes()...)
	rs = append(rs, c.adminFormRoutes()...)
	return rs
}

// secure sets the headers every page carries.
func secure(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Security-Policy", ContentSecurityPolicy)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Cache-Control", "no-store")
}

func (c *Console) home(w http.ResponseWriter, r *http.Request) error {
	http.Redirect(w, r, "/models", http.StatusSeeOther)
	return nil
}

func (c *Console) static(w http.ResponseWriter, r *http.Request) error {
	b, err := staticFS.ReadFile("static/" + r.PathValue("file"))
	if err != nil {
		return notFound("no such file: " + r.PathValue("file"))
	}
	switch {
	case strings.HasSuffix(r.PathValue("file"), ".css"):
		w.Header().Set("Content-Type", "text/css; charset=utf-8")
	case strings.HasSuffix(r.PathValue("file"), ".svg"):
		w.Header().Set("Content-Type", "image/svg+xml")
	}
	w.Header().Set("Cache-Control", "public, max-age=3600")
	_, err = w.Write(b)
	return err
}

// view is what every template gets.
type view struct {
	Title string
	P     *access.Principal
	CSRF  string
	Nav   []navItem
	Flash string
	Error string
	Data  any
}

type navItem struct {
	Href, Label string
	Current     bool
}

// nav is the menu for p: only the pages p may open.
func nav(p *access.Principal, path string) []navItem {
	if p == nil {
		return nil
	}
	all := []struct {
		href, label string
		cap         access.Capability
	}{
		{"/models", "Models", ""},
		{"/containers", "Containers", access.CapListContainer},
		{"/notebooks", "Notebooks", ""},
		{"/search", "Search", access.CapSearch},
		{"/audit", "Audit", access.CapReadAudit},
		{"/admin", "Administration", ""},
	}
	var out []navItem
	for _, it := range all {
		if it.cap != "" && !p.Can(it.cap) {
			continue
		}
		out = append(out, navItem{Href: it.href, Label: it.label, Current: strings.HasPrefix(path, it.href)})
	}
	return out
}

// render writes the page name with data.
func (c *Console) render(w http.ResponseWriter, r *http.Request, status int, name, title string, data any) error {
	t := c.pages[name]
	if t == nil {
		return fmt.Errorf("no template %q", name)
	}
	p := access.FromContext(r.Context())
	v := view{Title: title, P: p, CSRF: api.CSRFToken(api.SessionSecret(r)), Nav: nav(p, r.URL.Path),
		Flash: r.URL.Query().Get("done"), Data: data}
	var b strings.Builder
	if err := t.ExecuteTemplate(&b, "layout.html", v); err != nil {
		return fmt.Errorf("rendering %s: %w", name, err)
	}
	secure(w)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, err := w.Write([]byte(b.String()))
	return err
}

// Error answers a page's error: a request without a valid session goes
// to the login page (back to the page after); others get an error page
// with the API's message. It is the API's PageError.
func (c *Console) Error(w http.ResponseWriter, r *http.Request, status int, e wire.Error) {
	secure(w)
	if status == http.StatusUnauthorized && r.Method == http.MethodGet {
		api.SetSessionCookie(w, "", -1)
		http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
		return
	}
	if err := c.render(w, r, status, "error", http.StatusText(status), e); err != nil {
		c.log.Error("rendering an error page", "err", err)
	}
}

// done redirects after a successful form to target with a message (in
// the query, before any #fragment, so that the page shows it).
func done(w http.ResponseWriter, r *http.Request, target, msg string) error {
	path, frag, hasFrag := strings.Cut(target, "#")
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	to := path + sep + "done=" + url.QueryEscape(msg)
	if hasFrag {
		to += "#" + frag
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
	return nil
}

var funcs = template.FuncMap{
	"time": func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format("2006-01-02 15:04:05Z")
	},
	"timep": func(t *time.Time) string {
		if t == nil || t.IsZero() {
			return ""
		}
		return t.UTC().Format("2006-01-02 15:04:05Z")
	},
	"join":  strings.Join,
	"list":  func(s ...string) []string { return s },
	"field": func(r wire.Row, k string) string { v, _ := r.Get(k); return v },
	"short": func(s string) string {
		if len(s) > 19 {
			return s[:19] + "…"
		}
		return s
	},
	"pathesc": url.PathEscape,
	// inList: whether a cell's ", "-joined list holds item.
	"inList": func(list, item string) bool { return slices.Contains(strings.Split(list, ", "), item) },
	"rowArgs": func(id string, n int, r adminRow, csrf string, p *access.Principal, caps []string) rowActions {
		return rowActions{ID: id, N: n, Row: r, CSRF: csrf, P: p, Capabilities: caps}
	},
	"can": func(p *access.Principal, c string) bool { return p.Can(access.Capability(c)) },
}
