package cli

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dockyard/dockyard/internal/images/imagestest"
	"github.com/dockyard/dockyard/internal/server/servertest"
)

func TestRegistriesCommands(t *testing.T) {
	h := servertest.Start(t)
	admin := loginVars(t, h, "admin", servertest.AdminPassword)
	const pw = "registry-pw-never-shown"
	reg := imagestest.Private(t, "ci", pw)
	first := reg.Push(t, "golden-cpu:5.2.0")
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, []byte(reg.CAPEM), 0o600); err != nil {
		t.Fatal(err)
	}
	ref := reg.Host + "/golden-cpu:5.2.0"
	steps := []struct {
		stdin string
		args  []string
		code  int
		want  string // in stdout when code is 0, else in stderr
	}{
		{"", []string{"images", "add", "golden-cpu", "--ref", ref}, 1, "registries add " + reg.Host + " --ca-file"},
		{"", []string{"registries", "add", "https://" + reg.Host}, 1, "without https://"},
		{"", []string{"registries", "add", reg.Host, "--ca-file", "/nonexistent/ca.pem"}, 1, "--ca-file"},
		{"", []string{"registries", "add", reg.Host, "--ca-file", ca}, 0, reg.Host},
		{"", []string{"images", "add", "golden-cpu", "--ref", ref}, 1, "registries login " + reg.Host},
		{"", []string{"registries", "login", reg.Host, "--password-stdin"}, 2, "--user"},
		{"", []string{"registries", "login", reg.Host, "--user", "ci"}, 2, "--password-stdin"},
		{"wrong\n", []string{"registries", "login", reg.Host, "--user", "ci", "--password-stdin"}, 0, "ci"},
		{"", []string{"images", "add", "golden-cpu", "--ref", ref}, 1, "credentials are missing or wrong"},
		{pw + "\n", []string{"registries", "login", reg.Host, "--user", "ci", "--password-stdin"}, 0, "ci"},
		{"", []string{"images", "add", "golden-cpu", "--ref", ref}, 0, first},
		{"", []string{"registries", "list", "-o", "json"}, 0, `"username": "ci"`},
		{"", []string{"registries", "remove", reg.Host}, 2, "--yes"},
		{"", []string{"registries", "remove", reg.Host, "--yes"}, 0, "Removed registry " + reg.Host},
	}
	for _, s := range steps {
		out, e := runWant(t, admin, s.stdin, s.code, s.want, s.args...)
		if strings.Contains(out+e, pw) {
			t.Fatalf("%s shows the password: %s %s", strings.Join(s.args, " "), out, e)
		}
	}
	// Neither the audit trail nor any file of the data dir (the database,
	// its WAL) holds the password in clear.
	all := auditBodies(t, h)
	if strings.Contains(all, pw) || !strings.Contains(all, `"registry.login"`) {
		t.Errorf("audit trail: the password, or no registry.login event:\n%s", all)
	}
	err := filepath.WalkDir(h.Data, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err == nil && strings.Contains(string(b), pw) {
			t.Errorf("%s holds the registry password in clear", path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func auditBodies(t *testing.T, h *servertest.Harness) string {
	t.Helper()
	var b strings.Builder
	if err := h.Admin.AuditExport(context.Background(), &b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// hasAuditEvent reports whether one line of the audit export has all of want.
func hasAuditEvent(all string, want ...string) bool {
	for _, line := range strings.Split(all, "\n") {
		ok := true
		for _, w := range want {
			ok = ok && strings.Contains(line, w)
		}
		if ok {
			return true
		}
	}
	return false
}
