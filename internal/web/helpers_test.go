package web_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/dockyard/dockyard/internal/cli"
	"github.com/dockyard/dockyard/internal/server/servertest"
)

// TestMain lets the process runtime start agents from this test binary
// (it runs the CLI when DOCKYARD_TEST_MAIN is set), as internal/server's
// tests do.
func TestMain(m *testing.M) {
	if os.Getenv("DOCKYARD_TEST_MAIN") == "1" {
		os.Exit(cli.Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
	}
	os.Setenv("DOCKYARD_TEST_MAIN", "1")
	os.Exit(m.Run())
}

// browser is an HTTP client with a cookie jar that trusts the server, as
// a browser would be; it does not follow redirects, so tests see them.
type browser struct {
	t    testing.TB
	base string
	hc   *http.Client
}

func newBrowser(t testing.TB, h *servertest.Harness) *browser {
	t.Helper()
	pem, err := os.ReadFile(h.Srv.CAFile())
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, base: h.Srv.URL(), hc: &http.Client{
		Jar:           jar,
		Transport:     &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// do sends a request; form, when not nil, is the body of a POST sent from
// the server's own origin unless hdr says otherwise.
func (b *browser) do(method, path string, form url.Values, hdr map[string]string) (*http.Response, string) {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(context.Background(), method, b.base+path, body)
	if err != nil {
		b.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", b.base)
		req.Header.Set("Sec-Fetch-Site", "same-origin")
	}
	for k, v := range hdr {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	resp, err := b.hc.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp, string(out)
}

func (b *browser) get(path string) (*http.Response, string) { return b.do("GET", path, nil, nil) }

var csrfRe = regexp.MustCompile(`name="csrf" value="([^"]*)"`)

// csrfOf is the first CSRF token in a page.
func csrfOf(t testing.TB, page string) string {
	t.Helper()
	m := csrfRe.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no CSRF token in the page:\n%s", page)
	}
	return html.UnescapeString(m[1])
}

// login logs the browser in through the login form.
func (b *browser) login(user, password string) {
	b.t.Helper()
	_, page := b.get("/login")
	resp, body := b.do("POST", "/login", url.Values{"csrf": {csrfOf(b.t, page)}, "user": {user}, "password": {password}, "next": {"/models"}}, nil)
	if resp.StatusCode != http.StatusSeeOther {
		b.t.Fatalf("login %s: %d %s", user, resp.StatusCode, body)
	}
}

// page GETs path, which must answer 200, and returns the page and a CSRF
// token from it (or "").
func (b *browser) page(path string) (string, string) {
	b.t.Helper()
	resp, body := b.get(path)
	if resp.StatusCode != http.StatusOK {
		b.t.Fatalf("GET %s: %d %s", path, resp.StatusCode, body)
	}
	tok := ""
	if m := csrfRe.FindStringSubmatch(body); m != nil {
		tok = html.UnescapeString(m[1])
	}
	return body, tok
}

func modelDir(t testing.TB, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for p, c := range files {
		if err := os.WriteFile(filepath.Join(dir, p), []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}
