package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dockyard/dockyard/internal/images/imagestest"
	"github.com/dockyard/dockyard/internal/server/servertest"
)

// TestImagesSaveLoad saves a signed image on one server and loads it on
// another, whose private registry (TLS, basic auth) it is pushed to; it
// verifies there without the first registry. A tampered archive is
// refused.
func TestImagesSaveLoad(t *testing.T) {
	a, b := servertest.Start(t), servertest.Start(t)
	adminA := loginVars(t, a, "admin", servertest.AdminPassword)
	adminB := loginVars(t, b, "admin", servertest.AdminPassword)
	src := imagestest.Plain(t)
	dst := imagestest.Private(t, "ci", "s3cret")
	dir := t.TempDir()
	key, _, pub := writeKeyPair(t, dir, "release")
	digest := src.Push(t, "golden:5.2")
	cosignSign(t, src, "golden", digest, key)
	ca := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(ca, []byte(dst.CAPEM), 0o600); err != nil {
		t.Fatal(err)
	}
	archive := filepath.Join(dir, "golden.tar")
	steps := []struct {
		vars  map[string]string
		stdin string
		args  []string
		code  int
		want  string
	}{
		{adminA, "", []string{"images", "add", "golden", "--ref", src.Host + "/golden:5.2", "--title", "Golden"}, 0, digest},
		{adminA, "", []string{"images", "save", "golden"}, 2, "--file"},
		{adminA, "", []string{"images", "save", "nope", "--file", archive}, 3, "not in the catalogue"},
		{adminA, "", []string{"images", "save", "golden", "--file", archive}, 0, ""},
		{adminB, "", []string{"registries", "add", dst.Host, "--ca-file", ca}, 0, dst.Host},
		{adminB, "", []string{"images", "load", "--file", archive, "--push", dst.Host + "/mirror/golden"}, 1, "credentials"},
		{adminB, "s3cret\n", []string{"registries", "login", dst.Host, "--user", "ci", "--password-stdin"}, 0, "ci"},
		{adminB, "", []string{"images", "load", "--file", archive, "--push", dst.Host + "/mirror/golden:1"}, 1, "without a tag"},
		{adminB, "", []string{"images", "load", "--file", archive, "--push", dst.Host + "/mirror/golden"}, 0, digest},
		{adminB, "", []string{"images", "show", "golden", "-o", "json"}, 0, dst.Host + "/mirror/golden:5.2"},
		{adminB, "", []string{"images", "keys", "add", "release", "--file", pub}, 0, "release"},
		{adminB, "", []string{"images", "policy", "set", "--require-signature"}, 0, "true"},
		{adminB, "", []string{"images", "show", "golden", "-o", "json"}, 0, "allowed: signed by release"},
	}
	for _, s := range steps {
		runWant(t, s.vars, s.stdin, s.code, s.want, s.args...)
	}
	// A changed byte anywhere in a blob is refused, and nothing is added.
	body, err := os.ReadFile(archive)
	if err != nil {
		t.Fatal(err)
	}
	i := strings.Index(string(body), `"schemaVersion"`)
	if i < 0 {
		t.Fatal("no manifest in the archive")
	}
	body[i+1] = 'S'
	bad := filepath.Join(dir, "bad.tar")
	if err := os.WriteFile(bad, body, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, e, code := run(t, adminB, "", "images", "load", "--file", bad, "--name", "golden-bad", "--push", dst.Host+"/bad"); code != 1 || !strings.Contains(e, "changed or damaged") {
		t.Fatalf("tampered archive: exit %d, %s", code, e)
	}
	if out, _, _ := run(t, adminB, "", "images", "list"); strings.Contains(out, "golden-bad") {
		t.Fatalf("a tampered archive added an entry:\n%s", out)
	}
	for _, w := range [][]string{{`"image.save"`, digest}, {`"image.load"`, digest, `"signatures":1`}} {
		all := auditBodies(t, a) + auditBodies(t, b)
		if !hasAuditEvent(all, w...) {
			t.Errorf("no audit event with %q", w)
		}
	}
}
