package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/dockyard/dockyard/internal/access"
	"github.com/dockyard/dockyard/internal/api"
	"github.com/dockyard/dockyard/internal/server/servertest"
	"github.com/dockyard/dockyard/internal/web"
)

func sessionCookie(resp *http.Response) *http.Cookie {
	for _, c := range resp.Cookies() {
		if c.Name == api.SessionCookie {
			return c
		}
	}
	return nil
}

// TestLoginSetsAHardenedSessionAndLogoutEndsIt: the session cookie is
// HttpOnly, Secure, SameSite=Strict on /; a page then shows the user; after
// logout the same cookie no longer opens a page.
func TestLoginSetsAHardenedSessionAndLogoutEndsIt(t *testing.T) {
	h := servertest.Start(t)
	h.User("alice", access.RoleUser)
	b := newBrowser(t, h)

	resp, _ := b.get("/models")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/login?next=") {
		t.Fatalf("GET /models without a session: %d to %q, want a redirect to the login page", resp.StatusCode, resp.Header.Get("Location"))
	}
	_, page := b.get("/login")
	resp, _ = b.do("POST", "/login", url.Values{"csrf": {csrfOf(t, page)}, "user": {"alice"}, "password": {servertest.UserPassword}, "next": {"/models"}}, nil)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/models" {
		t.Fatalf("login: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	c := sessionCookie(resp)
	if c == nil || !c.HttpOnly || !c.Secure || c.SameSite != http.SameSiteStrictMode || c.Path != "/" || !strings.HasPrefix(c.Value, access.SessionPrefix) {
		t.Fatalf("session cookie = %+v, want HttpOnly, Secure, SameSite=Strict, Path=/ holding a session secret", c)
	}
	body, tok := b.page("/models")
	if !strings.Contains(body, `id="whoami">alice<`) {
		t.Errorf("the models page does not name the user:\n%s", body)
	}
	resp, _ = b.do("POST", "/logout", url.Values{"csrf": {tok}}, nil)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("logout: %d", resp.StatusCode)
	}
	// The revoked secret, sent again as a stolen cookie would be.
	b2 := newBrowser(t, h)
	u, _ := url.Parse(h.Srv.URL())
	b2.hc.Jar.SetCookies(u, []*http.Cookie{{Name: api.SessionCookie, Value: c.Value}})
	resp, _ = b2.get("/models")
	if resp.StatusCode != http.StatusSeeOther {
		t.Errorf("GET /models with the logged-out session: %d, want a redirect to the login page", resp.StatusCode)
	}
}

// TestLoginFailuresAreThrottledAsTheAPIs: the form goes through the API's
// login, so the same throttle refuses after repeated failures, also the
// right password.
func TestLoginFailuresAreThrottledAsTheAPIs(t *testing.T) {
	h := servertest.Start(t)
	h.User("bob", access.RoleUser)
	b := newBrowser(t, h)
	var last *http.Response
	for i := 0; i < 12; i++ {
		_, page := b.get("/login")
		last, _ = b.do("POST", "/login", url.Values{"csrf": {csrfOf(t, page)}, "user": {"bob"}, "password": {"wrong"}}, nil)
		if last.StatusCode == http.StatusTooManyRequests {
			break
		}
		if last.StatusCode != http.StatusUnauthorized {
			t.Fatalf("wrong password: %d, want 401", last.StatusCode)
		}
	}
	if last.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("after 12 wrong passwords: %d, want 429", last.StatusCode)
	}
	_, page := b.get("/login")
	resp, body := b.do("POST", "/login", url.Values{"csrf": {csrfOf(t, page)}, "user": {"bob"}, "password": {servertest.UserPassword}}, nil)
	if resp.StatusCode != http.StatusTooManyRequests || sessionCookie(resp) != nil {
		t.Errorf("right password while throttled: %d %s, want 429 and no session", resp.StatusCode, body)
	}
}

// TestCrossSiteAndTokenlessPostsAreRefused: a state-changing form without
// the session's CSRF token, with another's token, from another origin, or
// marked cross-site by the browser is refused before it acts; the same
// form with the token acts.
func TestCrossSiteAndTokenlessPostsAreRefused(t *testing.T) {
	ctx := context.Background()
	h := servertest.Start(t)
	alice := h.User("alice", access.RoleUser, access.RolePower)
	for i := 0; i < 2; i++ {
		if _, _, err := alice.ImportModelDir(ctx, "app:churn", modelDir(t, map[string]string{"m.pkl": "v" + string(rune('1'+i))}), "sk"); err != nil {
			t.Fatal(err)
		}
	}
	b := newBrowser(t, h)
	b.login("alice", servertest.UserPassword)
	_, tok := b.page("/models/app:churn")
	other := newBrowser(t, h)
	h.User("mallory", access.RoleUser)
	other.login("mallory", servertest.UserPassword)
	_, otherTok := other.page("/models")

	rollback := "/models/app:churn/rollback"
	for _, tc := range []struct {
		name string
		form url.Values
		hdr  map[string]string
	}{
		{"no token", url.Values{"to": {"1"}}, nil},
		{"another session's token", url.Values{"to": {"1"}, "csrf": {otherTok}}, nil},
		{"a forged cross-site post (Origin)", url.Values{"to": {"1"}, "csrf": {tok}}, map[string]string{"Origin": "https://evil.example", "Sec-Fetch-Site": ""}},
		{"a forged cross-site post (Sec-Fetch-Site)", url.Values{"to": {"1"}, "csrf": {tok}}, map[string]string{"Origin": "", "Sec-Fetch-Site": "cross-site"}},
	} {
		resp, body := b.do("POST", rollback, tc.form, tc.hdr)
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s: %d, want 403:\n%s", tc.name, resp.StatusCode, body)
		}
	}
	s, err := alice.Model(ctx, "app:churn")
	if err != nil || s.Version != 2 {
		t.Fatalf("after the refused posts the current version is %d (%v), want 2 still", s.Version, err)
	}
	resp, body := b.do("POST", rollback, url.Values{"to": {"1"}, "csrf": {tok}}, nil)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("rollback with the token: %d %s", resp.StatusCode, body)
	}
	if s, err := alice.Model(ctx, "app:churn"); err != nil || s.Version != 1 {
		t.Errorf("after the rollback the current version is %d (%v), want 1", s.Version, err)
	}
	// The login form has its own token (there is no session yet).
	resp, _ = newBrowser(t, h).do("POST", "/login", url.Values{"user": {"alice"}, "password": {servertest.UserPassword}}, nil)
	if resp.StatusCode != http.StatusForbidden || sessionCookie(resp) != nil {
		t.Errorf("login without the form's token: %d, want 403 and no session", resp.StatusCode)
	}
}

// TestPagesCarryAStrictCSPAndNoInlineScript: every main page sends the
// policy and the headers, and holds no script and no inline style.
func TestPagesCarryAStrictCSPAndNoInlineScript(t *testing.T) {
	h := servertest.Start(t)
	b := newBrowser(t, h)
	b.login("admin", servertest.AdminPassword)
	for _, p := range []string{"/login", "/models", "/containers", "/notebooks", "/search", "/audit", "/admin", "/no-such-page"} {
		resp, body := b.get(p)
		if p != "/no-such-page" && resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s: %d %s", p, resp.StatusCode, body)
		}
		if got := resp.Header.Get("Content-Security-Policy"); got != web.ContentSecurityPolicy {
			t.Errorf("GET %s: CSP %q", p, got)
		}
		if resp.Header.Get("X-Frame-Options") != "DENY" || resp.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("GET %s: headers %v", p, resp.Header)
		}
		low := strings.ToLower(body)
		for _, bad := range []string{"<script", " style=", "javascript:", " onclick=", " onload="} {
			if strings.Contains(low, bad) {
				t.Errorf("GET %s holds %q", p, bad)
			}
		}
	}
	if resp, _ := b.get("/no-such-page"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET /no-such-page: %d, want 404", resp.StatusCode)
	}
	resp, body := b.get("/v1/no-such-endpoint")
	if resp.StatusCode != http.StatusNotFound || !strings.Contains(resp.Header.Get("Content-Type"), "json") {
		t.Errorf("GET /v1/no-such-endpoint: %d %q %s, want a JSON 404", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	// A /v1 route does not take the session cookie.
	if resp, _ := b.get("/v1/whoami"); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("GET /v1/whoami with only the session cookie: %d, want 401", resp.StatusCode)
	}
}
