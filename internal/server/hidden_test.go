package server_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/dockyard/dockyard/internal/access"
	"github.com/dockyard/dockyard/internal/server/servertest"
	"github.com/dockyard/dockyard/internal/wire"
)

// rawUser sends requests as one user and returns the status and the exact
// body of each answer, errors included.
type rawUser struct {
	h     *servertest.Harness
	http  *http.Client
	token string
	app   string
}

func newRawUser(t *testing.T, h *servertest.Harness, name, app string) *rawUser {
	t.Helper()
	res, err := h.Client("").Login(context.Background(), name, servertest.UserPassword)
	if err != nil {
		t.Fatalf("login %s: %v", name, err)
	}
	pem, err := os.ReadFile(h.Srv.CAFile())
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}
	t.Cleanup(tr.CloseIdleConnections)
	return &rawUser{h: h, http: &http.Client{Transport: tr}, token: res.Token, app: app}
}

func (u *rawUser) do(t *testing.T, method, path, ctype string, body []byte) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, u.h.Srv.URL()+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+u.token)
	req.Header.Set("Dockyard-Protocol", wire.ProtocolVersion)
	if u.app != "" {
		req.Header.Set("Dockyard-App", u.app)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := u.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

var (
	requestIDField = regexp.MustCompile(`"request_id":\s*"[0-9a-f]*"`)
	timestamp      = regexp.MustCompile(`"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)"`)
	// Each server signs its exports with its own key.
	serverKey = regexp.MustCompile(`this server \(sha256:[0-9a-f]{64}\)`)
)

// comparable drops what differs between any two requests: the request id,
// and the times of the request (the creation and update times of what it
// made), and the fingerprint of the server's own signing key. Everything
// else must be byte-identical.
func comparable(body string) string {
	body = serverKey.ReplaceAllString(body, "this server (KEY)")
	return timestamp.ReplaceAllString(requestIDField.ReplaceAllString(body, `"request_id": "-"`), `"TIME"`)
}

const hiddenNB = "def fit(model, df, param):\n    return {}\n"

// hideObjects gives every name the test uses a private object of carol's
// and an app-shared object of alice's that only admins may read: both
// hidden from bob and dave.
func hideObjects(t *testing.T, h *servertest.Harness) {
	ctx := context.Background()
	alice := h.User("alice", access.RoleUser, access.RolePower)
	carol := h.User("carol", access.RoleUser, access.RolePower)
	admins := []string{access.RoleAdmin}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "w.bin"), []byte("secret weights"), 0o600)
	for _, m := range []string{"M1", "M2"} {
		if _, _, err := carol.ImportModelDir(ctx, m, dir, "nb"); err != nil {
			t.Fatal(err)
		}
		if _, _, err := alice.ImportModelDir(ctx, "app:"+m, dir, "nb"); err != nil {
			t.Fatal(err)
		}
		if _, err := alice.ShareModel(ctx, "app:"+m, wire.ModelShareRequest{Sharing: "app", Read: &admins}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := carol.UploadLookup(ctx, "l.csv", strings.NewReader("a\n1\n")); err != nil {
		t.Fatal(err)
	}
	if _, err := alice.UploadLookup(ctx, "l.csv", strings.NewReader("a\n2\n")); err != nil {
		t.Fatal(err)
	}
	if _, err := alice.ShareLookup(ctx, "l.csv", wire.LookupShare{Sharing: "app", Read: admins}); err != nil {
		t.Fatal(err)
	}
	for _, nb := range []string{"nb1", "nb2"} {
		if _, err := carol.PushNotebook(ctx, nb, "py", "", []byte(hiddenNB)); err != nil {
			t.Fatal(err)
		}
		if _, err := alice.PushNotebook(ctx, nb, "py", "app", []byte("# alice's\n"+hiddenNB)); err != nil {
			t.Fatal(err)
		}
		if _, err := alice.ShareNotebook(ctx, nb, "app", admins, nil); err != nil {
			t.Fatal(err)
		}
	}
}

type answer struct {
	step   string
	status int
	body   string
}

// collisionPaths runs, as bob (a writer of the default app) and dave (a
// reader of it), every request that names an object which may collide with
// another user's, and returns the answers.
func collisionPaths(t *testing.T, h *servertest.Harness) []answer {
	ctx := context.Background()
	bobC := h.User("bob", access.RoleUser, access.RolePower)
	h.User("dave", access.RoleUser)
	bob := newRawUser(t, h, "bob", "")
	dave := newRawUser(t, h, "dave", "")
	// What bob brings: a model archive, his own private M2, l.csv and nb1.
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "w.bin"), []byte("bob's weights"), 0o600)
	if _, _, err := bobC.ImportModelDir(ctx, "seed", dir, "nb"); err != nil {
		t.Fatal(err)
	}
	var tarball bytes.Buffer
	if _, err := bobC.ExportModel(ctx, "seed", &tarball); err != nil {
		t.Fatal(err)
	}
	var out []answer
	add := func(step string, status int, body string) { out = append(out, answer{step, status, comparable(body)}) }
	st, body := dave.do(t, "POST", "/v1/models/app:M1/versions?source=archive", "application/x-tar", tarball.Bytes())
	add("dave: models import app:M1 (no write on the app)", st, body)
	st, body = bob.do(t, "POST", "/v1/models/app:M1/versions?source=archive", "application/x-tar", tarball.Bytes())
	add("bob: models import app:M1", st, body)
	st, body = bob.do(t, "GET", "/v1/models/app:M1", "", nil)
	add("bob: models show app:M1", st, body)

	st, body = bob.do(t, "POST", "/v1/models/M2/versions?source=archive", "application/x-tar", tarball.Bytes())
	add("bob: models import M2 (private)", st, body)
	st, body = bob.do(t, "POST", "/v1/models/M2/share", "application/json", []byte(`{"sharing":"app"}`))
	add("bob: models share M2 --sharing app", st, body)
	st, body = bob.do(t, "POST", "/v1/models/app:M2/share", "application/json", []byte(`{"sharing":"global"}`))
	add("bob: models share app:M2 --sharing global", st, body)

	st, body = bob.do(t, "POST", "/v1/lookups?name=l.csv", "text/csv", []byte("a\n3\n"))
	add("bob: lookups upload l.csv", st, body)
	st, body = bob.do(t, "POST", "/v1/lookups/l.csv/share", "application/json", []byte(`{"sharing":"app"}`))
	add("bob: lookups share l.csv --sharing app", st, body)

	st, body = bob.do(t, "PUT", "/v1/notebooks/nb1?format=py", "application/octet-stream", []byte(hiddenNB))
	add("bob: notebooks push nb1", st, body)
	st, body = bob.do(t, "POST", "/v1/notebooks/nb1/share", "application/json", []byte(`{"sharing":"app"}`))
	add("bob: notebooks share nb1 --sharing app", st, body)
	st, body = bob.do(t, "PUT", "/v1/notebooks/nb2?format=py&sharing=app", "application/octet-stream", []byte(hiddenNB))
	add("bob: notebooks push nb2 --sharing app", st, body)
	st, body = dave.do(t, "PUT", "/v1/notebooks/nb2?format=py&sharing=app", "application/octet-stream", []byte(hiddenNB))
	add("dave: notebooks push nb2 --sharing app (no write on the app)", st, body)
	return out
}

// TestHiddenAndMissingAnswerAlike runs the same requests against a server
// where other users hold hidden objects of every name used (a private one
// and an app-shared one bob may not read) and against one where nothing of
// those names exists: every answer (status and body, less the request id
// and the times of the request) is byte-identical.
func TestHiddenAndMissingAnswerAlike(t *testing.T) {
	hidden := servertest.Start(t)
	hideObjects(t, hidden)
	missing := servertest.Start(t)
	// The same users exist on both, so only the objects differ.
	missing.User("alice", access.RoleUser, access.RolePower)
	missing.User("carol", access.RoleUser, access.RolePower)

	got := collisionPaths(t, hidden)
	want := collisionPaths(t, missing)
	if len(got) != len(want) {
		t.Fatalf("%d answers, want %d", len(got), len(want))
	}
	for i := range got {
		g, w := got[i], want[i]
		if g.status != w.status || g.body != w.body {
			t.Errorf("%s: hidden answered %d %s\nmissing answered %d %s", g.step, g.status, g.body, w.status, w.body)
		}
	}
	// The requests did something: the compared answers are not all errors.
	for _, a := range want {
		if strings.HasPrefix(a.step, "bob") && a.status/100 != 2 {
			t.Errorf("%s: %d %s; want success", a.step, a.status, a.body)
		}
		if strings.HasPrefix(a.step, "dave") && a.status != http.StatusForbidden {
			t.Errorf("%s: %d %s; want 403", a.step, a.status, a.body)
		}
	}
	// alice's hidden app-shared objects are untouched and still hers.
	ctx := context.Background()
	alice := hidden.User("alice", access.RoleUser, access.RolePower)
	for _, ref := range []string{"app:M1", "app:M2"} {
		if s, err := alice.Model(ctx, ref); err != nil || s.Owner != "alice" {
			t.Errorf("alice's %s after bob's requests: %+v, %v", ref, s, err)
		}
	}
	if l, err := alice.Lookup(ctx, "l.csv"); err != nil || l.Owner != "alice" || l.Size != 4 {
		t.Errorf("alice's l.csv after bob's requests: %+v, %v", l, err)
	}
	if n, err := alice.Notebook(ctx, "nb2"); err != nil || n.Owner != "alice" || n.Version != 1 {
		t.Errorf("alice's nb2 after bob's requests: %+v, %v", n, err)
	}
}
