package api_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dockyard/dockyard/internal/access"
	"github.com/dockyard/dockyard/internal/api"
	"github.com/dockyard/dockyard/internal/store/sqlite"
)

// TestSessionCookieOnlyOnBrowserRoutes: the session cookie authenticates
// Browser and Page routes and nothing else; a state-changing request so
// authenticated must come from the server's origin, and on a Page route
// carry the session's CSRF token; a bearer token needs neither.
func TestSessionCookieOnlyOnBrowserRoutes(t *testing.T) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "dockyard.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	log := slog.New(slog.DiscardHandler)
	acc, err := access.NewService(db, access.Options{SessionTTL: time.Hour, Password: access.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32},
		Throttle: access.ThrottleOptions{MaxFailures: 5, Window: time.Minute, BaseDelay: time.Second, MaxDelay: time.Minute}}, log)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := acc.Bootstrap(ctx, "admin-password-1"); err != nil {
		t.Fatal(err)
	}
	session, _, err := acc.Login(ctx, access.AdminUser, "admin-password-1", "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	ok := func(w http.ResponseWriter, r *http.Request) error {
		_, err := io.WriteString(w, access.FromContext(r.Context()).User)
		return err
	}
	a := &api.API{Access: acc, Log: log, Extra: []api.Route{
		{Method: "GET", Pattern: "/v1/plain", Cap: api.Authenticated, Handle: ok},
		{Method: "POST", Pattern: "/v1/plain", Cap: api.Authenticated, Handle: ok},
		{Method: "GET", Pattern: "/browser", Cap: api.Authenticated, Browser: true, Handle: ok},
		{Method: "POST", Pattern: "/browser", Cap: api.Authenticated, Browser: true, Handle: ok},
		{Method: "POST", Pattern: "/page", Cap: api.Authenticated, Page: true, Handle: ok},
	}}
	srv := httptest.NewServer(a.Handler())
	t.Cleanup(srv.Close)
	host := strings.TrimPrefix(srv.URL, "http://")
	tok := api.CSRFToken(session)
	for _, tc := range []struct {
		name, method, path string
		form               url.Values
		hdr                map[string]string
		want               int
	}{
		{"API route, cookie only", "GET", "/v1/plain", nil, nil, 401},
		{"API route, cookie only, POST", "POST", "/v1/plain", nil, map[string]string{"Origin": srv.URL}, 401},
		{"API route, bearer", "GET", "/v1/plain", nil, map[string]string{"Authorization": "Bearer " + session, "Cookie": ""}, 200},
		{"Browser route, cookie", "GET", "/browser", nil, nil, 200},
		{"Browser route, same-origin POST", "POST", "/browser", nil, map[string]string{"Origin": srv.URL, "Sec-Fetch-Site": "same-origin"}, 200},
		{"Browser route, Origin of another site", "POST", "/browser", nil, map[string]string{"Origin": "https://evil.example"}, 403},
		{"Browser route, Origin of another port", "POST", "/browser", nil, map[string]string{"Origin": "http://" + strings.Split(host, ":")[0] + ":1"}, 403},
		{"Browser route, cross-site fetch", "POST", "/browser", nil, map[string]string{"Sec-Fetch-Site": "cross-site"}, 403},
		{"Browser route, same-site fetch", "POST", "/browser", nil, map[string]string{"Sec-Fetch-Site": "same-site"}, 403},
		{"Page, no CSRF token", "POST", "/page", url.Values{"x": {"1"}}, map[string]string{"Origin": srv.URL}, 403},
		{"Page, wrong CSRF token", "POST", "/page", url.Values{"csrf": {api.CSRFToken("dys_other")}}, nil, 403},
		{"Page, CSRF token in the form", "POST", "/page", url.Values{"csrf": {tok}}, map[string]string{"Origin": srv.URL}, 200},
		{"Page, CSRF token in the header", "POST", "/page", nil, map[string]string{"X-CSRF-Token": tok}, 200},
		{"Page, token but cross-site", "POST", "/page", url.Values{"csrf": {tok}}, map[string]string{"Sec-Fetch-Site": "cross-site"}, 403},
		{"Page, bearer without a token", "POST", "/page", nil, map[string]string{"Authorization": "Bearer " + session, "Cookie": ""}, 200},
		{"Page, revoked-looking cookie", "POST", "/page", nil, map[string]string{"Cookie": api.SessionCookie + "=dys_nope", "X-CSRF-Token": api.CSRFToken("dys_nope")}, 401},
	} {
		var body io.Reader
		if tc.form != nil {
			body = strings.NewReader(tc.form.Encode())
		}
		req, _ := http.NewRequest(tc.method, srv.URL+tc.path, body)
		if tc.form != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		req.AddCookie(&http.Cookie{Name: api.SessionCookie, Value: session})
		for k, v := range tc.hdr {
			if v == "" {
				req.Header.Del(k)
			} else {
				req.Header.Set(k, v)
			}
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("%s: %d %s, want %d", tc.name, resp.StatusCode, b, tc.want)
		}
	}
}
