package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dockyard/dockyard/internal/pki"
	"github.com/dockyard/dockyard/internal/server/servertest"
)

// TestCertFlags: images add/update --cert and containers start --cert
// reach the server, and its checks come back as the command's error.
func TestCertFlags(t *testing.T) {
	opCA, _, err := pki.LoadOrCreateCA(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for name, hosts := range map[string][]string{"dltk": {"127.0.0.1"}, "elsewhere": {"agent.example.com"}} {
		c, k, err := opCA.IssueServer(name, hosts, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name+".pem"), c, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name+".key"), k, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, opCA.CertPEM(), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := servertest.Config(t.TempDir())
	cfg.Containers.CertsDir, cfg.Containers.CertsCAFile = dir, caFile
	h := servertest.StartConfig(t, cfg)
	admin := loginVars(t, h, "admin", servertest.AdminPassword)
	for _, s := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"images", "add", "proc", "--runtime", "process", "--cert", "elsewhere"}, 1, `does not cover "127.0.0.1"`},
		{[]string{"images", "add", "proc", "--runtime", "process", "--cert", "dltk", "-o", "json"}, 0, `"cert": "dltk"`},
		{[]string{"images", "update", "proc", "--cert", "", "-o", "json"}, 0, `"name": "proc"`},
		{[]string{"images", "show", "proc", "-o", "json"}, 0, `"runtime": "process"`},
		{[]string{"containers", "start", "web", "--image", "proc", "--cert", "nope"}, 3, "there is no nope.pem"},
	} {
		runWant(t, admin, "", s.code, s.want, s.args...)
	}
	if out, _, _ := run(t, admin, "", "images", "show", "proc", "-o", "json"); strings.Contains(out, `"cert"`) {
		t.Errorf("--cert \"\" left the certificate: %s", out)
	}
}
