package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dockyard/dockyard/internal/server/servertest"

	"github.com/dockyard/dockyard/internal/transfer/transfertest"
)

// rewriteModelTar copies a model archive through change; an entry change
// returns nil for is dropped.
func rewriteModelTar(t *testing.T, src, dst string, change func(name string, b []byte) []byte) {
	t.Helper()
	in, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	out := transfertest.Rewrite(t, in, change, nil)
	if err := os.WriteFile(dst, out, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestModelBundleSignature exports a model from one server and imports it
// on another: the bundle is signed with the first server's key, verifies
// on the second once that key is trusted, and records the signer; a
// modified or unsigned bundle is refused under --require-signature.
func TestModelBundleSignature(t *testing.T) {
	a, b := servertest.Start(t), servertest.Start(t)
	adminA := loginVars(t, a, "admin", servertest.AdminPassword)
	adminB := loginVars(t, b, "admin", servertest.AdminPassword)
	dir := t.TempDir()
	model := filepath.Join(dir, "model")
	os.MkdirAll(model, 0o755)
	os.WriteFile(filepath.Join(model, "model.pkl"), []byte("weights-1"), 0o644)
	modelsRunOK(t, adminA, "models", "import", "app:churn", "--file", model, "--algo", "sklearn")
	bundle := filepath.Join(dir, "churn.tar")
	modelsRunOK(t, adminA, "models", "export", "app:churn", "--file", bundle)
	pub := filepath.Join(dir, "site-a.pem")
	if err := os.WriteFile(pub, []byte(modelsRunOK(t, adminA, "models", "keys", "show")), 0o600); err != nil {
		t.Fatal(err)
	}
	changed, unsigned := filepath.Join(dir, "changed.tar"), filepath.Join(dir, "unsigned.tar")
	rewriteModelTar(t, bundle, changed, func(name string, b []byte) []byte {
		if name == "metadata.json" {
			return bytes.Replace(b, []byte(`"sklearn"`), []byte(`"sklearm"`), 1)
		}
		return b
	})
	rewriteModelTar(t, bundle, unsigned, func(name string, b []byte) []byte {
		if name == "signature.json" {
			return nil
		}
		return b
	})
	steps := []struct {
		vars map[string]string
		args []string
		code int
		want string
	}{
		// Its own export verifies on the first server.
		{adminA, []string{"models", "import", "app:churn-again", "--file", bundle, "--require-signature", "-o", "json"}, 0, `"signed_by": "this server (sha256:`},
		{adminB, []string{"models", "import", "app:churn", "--file", bundle, "--require-signature"}, 4, "does not trust"},
		{adminB, []string{"models", "keys", "trust", "site-a"}, 2, "--file"},
		{adminB, []string{"models", "keys", "trust", "site-a", "--file", pub}, 0, "sha256:"},
		{adminB, []string{"models", "keys", "list"}, 0, "site-a"},
		{adminB, []string{"models", "import", "app:churn", "--file", changed, "--require-signature"}, 1, "changed after it was signed"},
		{adminB, []string{"models", "import", "app:churn", "--file", changed}, 1, "changed after it was signed"},
		{adminB, []string{"models", "import", "app:churn", "--file", unsigned, "--require-signature"}, 4, "not signed"},
		{adminB, []string{"models", "import", "app:churn", "--file", model, "--require-signature"}, 2, "not a directory"},
		{adminB, []string{"models", "import", "app:churn", "--file", bundle, "--require-signature", "-o", "json"}, 0, `"signed_by": "site-a (sha256:`},
		{adminB, []string{"models", "import", "app:churn-unsigned", "--file", unsigned, "-o", "json"}, 0, `"version": 1`},
		{adminB, []string{"models", "keys", "remove", "site-a", "--yes"}, 0, "site-a"},
		{adminB, []string{"models", "import", "app:churn", "--file", bundle, "-o", "json"}, 0, `"signed_by": "untrusted key sha256:`},
	}
	for _, s := range steps {
		runWant(t, s.vars, "", s.code, s.want, s.args...)
	}
	all := auditBodies(t, b)
	for _, w := range []string{`"model.key.trust"`, `"model.key.remove"`, `"signed_by":"site-a (sha256:`, `"require_signature":true`} {
		if !strings.Contains(all, w) {
			t.Errorf("no audit event with %s", w)
		}
	}
}
