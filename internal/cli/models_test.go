package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dockyard/dockyard/internal/server/servertest"
)

// modelsRunOK runs the CLI and fails the test unless it succeeds.
func modelsRunOK(t *testing.T, vars map[string]string, args ...string) string {
	t.Helper()
	out, e, code := run(t, vars, "", args...)
	if code != 0 {
		t.Fatalf("%s: %s", strings.Join(args, " "), e)
	}
	return out
}

func modelsJSON(t *testing.T, out string, into any) {
	t.Helper()
	if err := json.Unmarshal([]byte(out), into); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
}

func TestModelsCommands(t *testing.T) {
	h := servertest.Start(t)
	admin := loginVars(t, h, "admin", servertest.AdminPassword)
	dir := t.TempDir()
	weights := filepath.Join(dir, "model.pkl")
	os.WriteFile(weights, []byte("weights-1"), 0o644)
	os.MkdirAll(filepath.Join(dir, "meta"), 0o755)
	os.WriteFile(filepath.Join(dir, "meta", "cols.json"), []byte(`["a","b"]`), 0o644)

	var v1 struct {
		Version int    `json:"version"`
		Digest  string `json:"digest"`
		Files   int    `json:"files"`
	}
	modelsJSON(t, modelsRunOK(t, admin, "models", "import", "churn", "--file", dir, "--algo", "sklearn", "-o", "json"), &v1)
	if v1.Version != 1 || v1.Files != 2 || !strings.HasPrefix(v1.Digest, "sha256:") {
		t.Fatalf("import v1 = %+v", v1)
	}
	os.WriteFile(weights, []byte("weights-2"), 0o644)
	// --from, the flag's old name, still works, with a warning.
	if out, e, code := run(t, admin, "", "models", "import", "churn", "--from", dir, "--algo", "sklearn"); code != 0 ||
		!strings.Contains(out, "version 2 of model churn") || !strings.Contains(e, "pass --file") {
		t.Fatalf("import v2 with --from: code %d, says %q, %q", code, out, e)
	}
	var vs []map[string]any
	modelsJSON(t, modelsRunOK(t, admin, "models", "versions", "churn", "-o", "json"), &vs)
	if len(vs) != 2 || vs[0]["version"] != 2.0 || vs[1]["digest"] != v1.Digest || vs[1]["creator"] != "admin" || vs[1]["created"] == "" {
		t.Fatalf("versions = %v", vs)
	}
	if out := modelsRunOK(t, admin, "models", "versions", "churn"); !strings.Contains(out, "VERSION") || !strings.Contains(out, "current") {
		t.Errorf("versions table:\n%s", out)
	}
	modelsRunOK(t, admin, "models", "alias", "set", "churn", "production", "1", "--reason", "holdout ok")
	if out := modelsRunOK(t, admin, "models", "rollback", "churn", "--to", "1", "--reason", "v2 drifts"); !strings.Contains(out, "from version 2 to 1") {
		t.Errorf("rollback says %q", out)
	}
	var hist []struct {
		Alias, User, Reason string
		From, To            int
	}
	modelsJSON(t, modelsRunOK(t, admin, "models", "history", "churn", "-o", "json"), &hist)
	if len(hist) != 4 || hist[2].Alias != "production" || hist[2].Reason != "holdout ok" || hist[2].User != "admin" ||
		hist[3].Alias != "current" || hist[3].From != 2 || hist[3].To != 1 || hist[3].Reason != "v2 drifts" {
		t.Fatalf("history = %+v", hist)
	}
	var show map[string]any
	modelsJSON(t, modelsRunOK(t, admin, "models", "show", "churn", "-o", "json"), &show)
	for _, k := range []string{"name", "app", "owner", "sharing", "perms", "version", "digest", "algo", "created", "creator", "params", "fit_info"} {
		if _, ok := show[k]; !ok {
			t.Errorf("models show -o json has no %q: %v", k, show)
		}
	}
	if show["version"] != 1.0 || show["digest"] != v1.Digest || show["owner"] != "admin" {
		t.Errorf("show = %v", show)
	}
	if out := modelsRunOK(t, admin, "models", "show", "churn@2"); !strings.Contains(out, "sklearn") || !strings.Contains(out, "production=1") {
		t.Errorf("show table:\n%s", out)
	}
	var list []map[string]any
	modelsJSON(t, modelsRunOK(t, admin, "models", "list", "-o", "json"), &list)
	if len(list) != 1 || list[0]["name"] != "churn" || list[0]["current"] != 1.0 {
		t.Errorf("list = %v", list)
	}

	// Export version 1 and import it elsewhere.
	tarFile := filepath.Join(t.TempDir(), "churn.tar")
	out, e, code := run(t, admin, "", "models", "export", "churn@1", "--file", tarFile)
	if code != 0 || out != "" || !strings.Contains(e, "Wrote version 1") {
		t.Fatalf("export: code %d, stdout %q, stderr %q", code, out, e)
	}
	other := servertest.Start(t)
	admin2 := loginVars(t, other, "admin", servertest.AdminPassword)
	var imported struct {
		Version int    `json:"version"`
		Digest  string `json:"digest"`
		Algo    string `json:"algo"`
	}
	modelsJSON(t, modelsRunOK(t, admin2, "models", "import", "app:churn", "--file", tarFile, "-o", "json"), &imported)
	if imported.Version != 1 || imported.Digest != v1.Digest || imported.Algo != "sklearn" {
		t.Fatalf("import of the export = %+v, want digest %s", imported, v1.Digest)
	}
	b, _ := os.ReadFile(tarFile)
	bad := filepath.Join(t.TempDir(), "bad.tar")
	os.WriteFile(bad, bytes.Replace(b, []byte(`["a","b"]`), []byte(`["a","c"]`), 1), 0o644)
	if _, e, code := run(t, admin2, "", "models", "import", "app:churn", "--file", bad); code == 0 || !strings.Contains(e, `"meta/cols.json"`) {
		t.Errorf("tampered import: code %d, %s", code, e)
	}

	// A second user sees a private model exactly like a missing one, until
	// it is shared at app level; deleting needs write permission.
	if _, e, code := run(t, admin, "bob-password-1\n", "users", "add", "bob", "--roles", "user", "--password-stdin"); code != 0 {
		t.Fatalf("users add bob: %s", e)
	}
	bob := loginVars(t, h, "bob", "bob-password-1")
	_, hidden, _ := run(t, bob, "", "models", "show", "churn")
	_, missing, _ := run(t, bob, "", "models", "show", "nosuch")
	if !strings.Contains(hidden, "model not found: churn") || strings.Replace(missing, "nosuch", "churn", 1) != hidden {
		t.Errorf("bob: hidden %q, missing %q", hidden, missing)
	}
	if out := modelsRunOK(t, bob, "models", "list", "-o", "json"); strings.TrimSpace(out) != "[]" {
		t.Errorf("bob lists %s", out)
	}
	if out := modelsRunOK(t, admin, "models", "share", "churn", "--sharing", "app"); !strings.Contains(out, "shared at app level") {
		t.Errorf("share says %q", out)
	}
	modelsJSON(t, modelsRunOK(t, bob, "models", "show", "churn", "-o", "json"), &show)
	if show["sharing"] != "app" {
		t.Errorf("bob show after share = %v", show)
	}
	if _, e, code := run(t, bob, "", "models", "delete", "churn", "--yes"); code == 0 || !strings.Contains(e, "write permission") {
		t.Errorf("bob delete: code %d, %s", code, e)
	}
	modelsRunOK(t, admin, "models", "delete", "churn", "-y")
	if _, e, code := run(t, admin, "", "models", "show", "churn"); code == 0 || !strings.Contains(e, "model not found: churn") {
		t.Errorf("show after delete: %s", e)
	}
	if _, e, code := run(t, admin, "", "models", "rollback", "churn"); code == 0 || !strings.Contains(e, "--to N") {
		t.Errorf("rollback without --to: %s", e)
	}
}

// TestModelsAliasRemoveUpdateOwner covers alias remove, update, --owner
// and the history reason of a directory import.
func TestModelsAliasRemoveUpdateOwner(t *testing.T) {
	h := servertest.Start(t)
	admin := loginVars(t, h, "admin", servertest.AdminPassword)
	for _, u := range []string{"alice", "bob"} {
		if _, e, code := run(t, admin, u+"-password-1\n", "users", "add", u, "--roles", "user", "--password-stdin"); code != 0 {
			t.Fatalf("users add %s: %s", u, e)
		}
	}
	alice := loginVars(t, h, "alice", "alice-password-1")
	bob := loginVars(t, h, "bob", "bob-password-1")
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "model.pkl"), []byte("weights"), 0o644)
	modelsRunOK(t, alice, "models", "import", "churn", "--file", dir, "--algo", "sklearn")

	var hist []struct {
		Alias, Reason string
		From, To      int
	}
	modelsJSON(t, modelsRunOK(t, alice, "models", "history", "churn", "-o", "json"), &hist)
	if len(hist) != 1 || hist[0].Reason != "imported from a directory" {
		t.Fatalf("history after a directory import = %+v", hist)
	}

	modelsRunOK(t, alice, "models", "alias", "set", "churn", "production", "1")
	if out := modelsRunOK(t, alice, "models", "alias", "remove", "churn", "production", "--reason", "retired", "--yes"); !strings.Contains(out, "Removed alias production") ||
		!strings.Contains(out, "version 1") {
		t.Errorf("alias remove says %q", out)
	}
	if _, e, code := run(t, alice, "", "models", "alias", "remove", "churn", "current"); code == 0 ||
		!strings.Contains(e, "cannot be removed") || !strings.Contains(e, "models rollback churn --to N") {
		t.Errorf("alias remove current: code %d, %s", code, e)
	}
	if _, e, code := run(t, alice, "", "models", "alias", "remove", "churn", "production", "--yes"); code == 0 || !strings.Contains(e, `no alias "production"`) {
		t.Errorf("alias remove again: code %d, %s", code, e)
	}
	modelsJSON(t, modelsRunOK(t, alice, "models", "history", "churn", "-o", "json"), &hist)
	if last := hist[len(hist)-1]; len(hist) != 3 || last.Alias != "production" || last.From != 1 || last.To != 0 || last.Reason != "retired" {
		t.Errorf("history after alias remove = %+v", hist)
	}

	if out := modelsRunOK(t, alice, "models", "update", "churn", "--description", "predicts churn", "--tag", "finance,weekly"); !strings.Contains(out, "finance,weekly") {
		t.Errorf("update says %q", out)
	}
	var list []map[string]any
	modelsJSON(t, modelsRunOK(t, alice, "models", "list", "--tag", "weekly", "-o", "json"), &list)
	if len(list) != 1 || list[0]["description"] != "predicts churn" {
		t.Errorf("list --tag weekly = %v", list)
	}
	if _, e, code := run(t, alice, "", "models", "update", "churn"); code == 0 || !strings.Contains(e, "--description") {
		t.Errorf("update without flags: code %d, %s", code, e)
	}

	// --owner: the administrator reaches alice's private model; bob gets
	// exactly the answer for a missing model.
	if _, e, code := run(t, admin, "", "models", "show", "churn"); code == 0 || !strings.Contains(e, "model not found: churn") {
		t.Errorf("admin show without --owner: code %d, %s", code, e)
	}
	var show map[string]any
	modelsJSON(t, modelsRunOK(t, admin, "models", "show", "churn", "--owner", "alice", "-o", "json"), &show)
	if show["owner"] != "alice" || show["description"] != "predicts churn" {
		t.Errorf("admin show --owner alice = %v", show)
	}
	for _, args := range [][]string{
		{"models", "versions", "churn"}, {"models", "history", "churn"},
		{"models", "alias", "set", "churn", "staging", "1"}, {"models", "alias", "remove", "churn", "staging", "--yes"},
		{"models", "rollback", "churn", "--to", "1"}, {"models", "update", "churn", "--tag", "audited"},
		{"models", "share", "churn", "--read", "user"}, {"models", "export", "churn", "--file", filepath.Join(t.TempDir(), "c.tar")},
	} {
		withOwner := append(append([]string{}, args...), "--owner", "alice")
		modelsRunOK(t, admin, withOwner...)
		_, hidden, code := run(t, bob, "", withOwner...)
		missing := append([]string{}, withOwner...)
		if args[1] == "alias" {
			missing[3] = "nosuch"
		} else {
			missing[2] = "nosuch"
		}
		_, gone, _ := run(t, bob, "", missing...)
		if code == 0 || !strings.Contains(hidden, "model not found: churn") || strings.Replace(gone, "nosuch", "churn", 1) != hidden {
			t.Errorf("bob %v: hidden %q, missing %q", withOwner, hidden, gone)
		}
	}
	modelsJSON(t, modelsRunOK(t, alice, "models", "show", "churn", "-o", "json"), &show)
	if tags, _ := show["tags"].([]any); len(tags) != 1 || tags[0] != "audited" {
		t.Errorf("alice sees tags %v after the admin's update", show["tags"])
	}
	if _, e, code := run(t, bob, "", "models", "delete", "churn", "--owner", "alice", "--yes"); code == 0 || !strings.Contains(e, "model not found: churn") {
		t.Errorf("bob delete --owner alice: code %d, %s", code, e)
	}
	modelsRunOK(t, admin, "models", "delete", "churn", "--owner", "alice", "--yes")
	if _, e, code := run(t, alice, "", "models", "show", "churn"); code == 0 || !strings.Contains(e, "model not found: churn") {
		t.Errorf("alice show after the admin's delete: %s", e)
	}
}
