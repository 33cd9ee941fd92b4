package pki_test

import (
	"crypto/x509"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/pki"
)

func newCA(t *testing.T) *pki.CA {
	t.Helper()
	ca, created, err := pki.LoadOrCreateCA(filepath.Join(t.TempDir(), "pki"))
	if err != nil || !created {
		t.Fatalf("LoadOrCreateCA = created %v, %v", created, err)
	}
	return ca
}

var fingerprintRE = regexp.MustCompile(`^([0-9A-F]{2}:){31}[0-9A-F]{2}$`)

func TestLoadOrCreateCA(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pki")
	ca, created, err := pki.LoadOrCreateCA(dir)
	if err != nil || !created {
		t.Fatalf("first LoadOrCreateCA = created %v, %v; want created", created, err)
	}
	if !ca.Cert.IsCA || ca.Cert.PublicKeyAlgorithm != x509.ECDSA {
		t.Fatalf("CA certificate: IsCA %v, algorithm %v", ca.Cert.IsCA, ca.Cert.PublicKeyAlgorithm)
	}
	if life := ca.Cert.NotAfter.Sub(ca.Cert.NotBefore); life < 9*365*24*time.Hour {
		t.Fatalf("CA validity %s, want about ten years", life)
	}
	for path, want := range map[string]os.FileMode{dir: 0o700, filepath.Join(dir, "ca-key.pem"): 0o600} {
		info, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if got := info.Mode().Perm(); got != want {
			t.Errorf("%s mode %04o, want %04o", path, got, want)
		}
	}
	fp := ca.Fingerprint()
	if !fingerprintRE.MatchString(fp) {
		t.Fatalf("fingerprint %q is not colon-separated uppercase SHA-256 hex", fp)
	}
	pemBytes, err := os.ReadFile(filepath.Join(dir, "ca.pem"))
	if err != nil {
		t.Fatal(err)
	}
	if got := pki.Fingerprint(pemBytes); got != fp {
		t.Fatalf("Fingerprint(ca.pem) = %s, CA.Fingerprint() = %s", got, fp)
	}
	if ca.CertFile() != filepath.Join(dir, "ca.pem") {
		t.Fatalf("CertFile = %s", ca.CertFile())
	}

	again, created, err := pki.LoadOrCreateCA(dir)
	if err != nil || created {
		t.Fatalf("second LoadOrCreateCA = created %v, %v; want loaded", created, err)
	}
	if again.Fingerprint() != fp {
		t.Fatalf("reloaded CA fingerprint %s, want %s", again.Fingerprint(), fp)
	}
	// The reloaded CA can still issue certificates that verify.
	certPEM, _, err := again.IssueServer("s", []string{"example.com"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := parseCert(t, certPEM).Verify(x509.VerifyOptions{Roots: ca.Pool(), DNSName: "example.com"}); err != nil {
		t.Fatalf("certificate from reloaded CA does not verify: %v", err)
	}
}

func TestFingerprintNotPEM(t *testing.T) {
	if got := pki.Fingerprint([]byte("not a certificate")); got != "" {
		t.Fatalf("Fingerprint(garbage) = %q, want empty", got)
	}
}

func TestCAKeyPermission(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pki")
	if _, _, err := pki.LoadOrCreateCA(dir); err != nil {
		t.Fatal(err)
	}
	key := filepath.Join(dir, "ca-key.pem")
	for _, mode := range []os.FileMode{0o644, 0o640, 0o604} {
		if err := os.Chmod(key, mode); err != nil {
			t.Fatal(err)
		}
		_, _, err := pki.LoadOrCreateCA(dir)
		if !errdefs.IsPermissionDenied(err) || !strings.Contains(err.Error(), "chmod 600 "+key) {
			t.Errorf("mode %04o: error = %v; want a refusal that says chmod 600 %s", mode, err, key)
		}
	}
	if err := os.Chmod(key, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := pki.LoadOrCreateCA(dir); err != nil {
		t.Fatalf("after chmod 600: %v", err)
	}
}

func TestCAHalfPresent(t *testing.T) {
	for _, remove := range []string{"ca.pem", "ca-key.pem"} {
		dir := filepath.Join(t.TempDir(), "pki")
		if _, _, err := pki.LoadOrCreateCA(dir); err != nil {
			t.Fatal(err)
		}
		if err := os.Remove(filepath.Join(dir, remove)); err != nil {
			t.Fatal(err)
		}
		_, _, err := pki.LoadOrCreateCA(dir)
		if !errdefs.IsInvalid(err) || !strings.Contains(err.Error(), remove) {
			t.Errorf("without %s: error = %v; want one naming the missing file (never a silent new CA)", remove, err)
		}
	}
}
