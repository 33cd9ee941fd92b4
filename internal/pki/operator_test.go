package pki_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/pki"
)

// TestAgentCertsChecks gives each way an operator pair can be wrong its
// own message, and loads a good one.
func TestAgentCertsChecks(t *testing.T) {
	opCA, _, err := pki.LoadOrCreateCA(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	other, _, err := pki.LoadOrCreateCA(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	put := func(name string, cert, key []byte) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name+".pem"), cert, 0o644); err != nil {
			t.Fatal(err)
		}
		if key != nil {
			if err := os.WriteFile(filepath.Join(dir, name+".key"), key, 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	issue := func(ca *pki.CA, hosts ...string) ([]byte, []byte) {
		c, k, err := ca.IssueServer("agent", hosts, 24*time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		return c, k
	}
	good, goodKey := issue(opCA, "127.0.0.1", "localhost")
	put("dltk", good, goodKey)
	_, otherKey := issue(opCA, "127.0.0.1")
	put("mismatch", good, otherKey)
	c, k := issue(opCA, "agent.example.com")
	put("elsewhere", c, k)
	c, k = issue(other, "127.0.0.1")
	put("foreign", c, k)
	put("nokey", good, nil)
	put("loose", good, goodKey)
	if err := os.Chmod(filepath.Join(dir, "loose.key"), 0o644); err != nil {
		t.Fatal(err)
	}
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, opCA.CertPEM(), 0o644); err != nil {
		t.Fatal(err)
	}
	certs, err := pki.OpenAgentCerts(dir, caFile)
	if err != nil {
		t.Fatal(err)
	}
	hosts := []string{"127.0.0.1"}
	gotCert, gotKey, err := certs.Load("dltk", hosts)
	if err != nil || string(gotCert) != string(good) || string(gotKey) != string(goodKey) {
		t.Fatalf("good pair: %v", err)
	}
	for _, c := range []struct {
		name string
		is   func(error) bool
		want string
	}{
		{"../dltk", errdefs.IsInvalid, "not a path"},
		{"missing", errdefs.IsNotFound, "there is no missing.pem"},
		{"nokey", errdefs.IsNotFound, "there is no key nokey.key"},
		{"loose", errdefs.IsPermissionDenied, "chmod 600"},
		{"mismatch", errdefs.IsInvalid, "does not match the certificate"},
		{"elsewhere", errdefs.IsInvalid, `does not cover "127.0.0.1", the address the server dials the agent at (it covers: agent.example.com)`},
		{"foreign", errdefs.IsInvalid, "does not chain to the CA in containers.certs_ca_file"},
	} {
		_, _, err := certs.Load(c.name, hosts)
		if !c.is(err) || err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want %q", c.name, err, c.want)
		}
	}
	certs.SetClock(func() time.Time { return time.Now().Add(48 * time.Hour) })
	if _, _, err := certs.Load("dltk", hosts); !errdefs.IsInvalid(err) || !strings.Contains(err.Error(), "expired on") {
		t.Errorf("expired: %v", err)
	}
	certs.SetClock(func() time.Time { return time.Now().Add(-48 * time.Hour) })
	if _, _, err := certs.Load("dltk", hosts); !errdefs.IsInvalid(err) || !strings.Contains(err.Error(), "is not valid until") {
		t.Errorf("not yet valid: %v", err)
	}
	if _, err := pki.OpenAgentCerts(dir, ""); !errdefs.IsInvalid(err) {
		t.Errorf("no CA file: %v", err)
	}
}
