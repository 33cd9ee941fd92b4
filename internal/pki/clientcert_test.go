package pki_test

import (
	"crypto/tls"
	"crypto/x509"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/pki"
)

func TestLoadOrCreateClientCert(t *testing.T) {
	ca := newCA(t)
	dir := filepath.Dir(ca.CertFile())
	const cn, ttl = "dockyard-server s1", 365 * 24 * time.Hour
	keyPath := filepath.Join(dir, pki.ClientKeyFile)

	first, issued, err := pki.LoadOrCreateClientCert(dir, ca, cn, ttl)
	if err != nil || !issued {
		t.Fatalf("first call: issued %v, %v; want issued", issued, err)
	}
	leaf, err := x509.ParseCertificate(first.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	if leaf.Subject.CommonName != cn {
		t.Errorf("common name %q, want %q", leaf.Subject.CommonName, cn)
	}
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: ca.Pool(), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Errorf("the certificate does not verify for client authentication: %v", err)
	}
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: ca.Pool(), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}); err == nil {
		t.Error("the client certificate also verifies as a server certificate")
	}
	info, err := os.Stat(keyPath)
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("%s: %v, mode %v; want 0600", pki.ClientKeyFile, err, info.Mode())
	}
	if _, err := os.Stat(filepath.Join(dir, pki.ClientCertFile)); err != nil {
		t.Fatalf("%s: %v", pki.ClientCertFile, err)
	}

	// A key that group or others can read is refused.
	if err := os.Chmod(keyPath, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := pki.LoadOrCreateClientCert(dir, ca, cn, ttl); !errdefs.IsPermissionDenied(err) || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("readable client key: error = %v, want a refusal saying chmod 600", err)
	}
	if err := os.Chmod(keyPath, 0o600); err != nil {
		t.Fatal(err)
	}

	second, issued, err := pki.LoadOrCreateClientCert(dir, ca, cn, ttl)
	if err != nil || issued {
		t.Fatalf("second call: issued %v, %v; want the existing certificate reused", issued, err)
	}
	if string(first.Certificate[0]) != string(second.Certificate[0]) {
		t.Fatal("second call returned a different certificate")
	}

	tests := []struct {
		name  string
		setup func(t *testing.T) (*pki.CA, string)
	}{
		{"another common name (another server id)", func(t *testing.T) (*pki.CA, string) { return ca, "dockyard-server s2" }},
		{"valid for less than 30 more days", func(t *testing.T) (*pki.CA, string) {
			certPEM, keyPEM, err := ca.IssueClient(cn, 10*24*time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			write(t, dir, pki.ClientCertFile, certPEM)
			write(t, dir, pki.ClientKeyFile, keyPEM)
			return ca, cn
		}},
		{"a server certificate in its place", func(t *testing.T) (*pki.CA, string) {
			certPEM, keyPEM, err := ca.IssueServer(cn, []string{"127.0.0.1"}, ttl)
			if err != nil {
				t.Fatal(err)
			}
			write(t, dir, pki.ClientCertFile, certPEM)
			write(t, dir, pki.ClientKeyFile, keyPEM)
			return ca, cn
		}},
		{"damaged file", func(t *testing.T) (*pki.CA, string) {
			write(t, dir, pki.ClientCertFile, []byte("not a certificate"))
			return ca, cn
		}},
		{"issued by another CA (the CA was recreated)", func(t *testing.T) (*pki.CA, string) { return newCA(t), cn }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// Start from a good certificate of ca for cn.
			if _, _, err := pki.LoadOrCreateClientCert(dir, ca, cn, ttl); err != nil {
				t.Fatal(err)
			}
			useCA, useCN := tc.setup(t)
			cert, issued, err := pki.LoadOrCreateClientCert(dir, useCA, useCN, ttl)
			if err != nil || !issued {
				t.Fatalf("issued %v, %v; want reissued", issued, err)
			}
			leaf, _ := x509.ParseCertificate(cert.Certificate[0])
			if leaf.Subject.CommonName != useCN || time.Until(leaf.NotAfter) < 300*24*time.Hour {
				t.Errorf("reissued certificate: CN %q, valid until %s", leaf.Subject.CommonName, leaf.NotAfter)
			}
			if _, err := leaf.Verify(x509.VerifyOptions{Roots: useCA.Pool(), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
				t.Errorf("reissued certificate does not verify: %v", err)
			}
		})
	}
}

func TestMutualTLSClientConfig(t *testing.T) {
	ca := newCA(t)
	addr := serve(t, pki.ServerTLSConfig(serverCert(t, ca, "127.0.0.1"), ca.Pool()))
	cert, _, err := pki.LoadOrCreateClientCert(filepath.Dir(ca.CertFile()), ca, "dockyard-server s1", time.Hour*24*60)
	if err != nil {
		t.Fatal(err)
	}
	cfg := pki.MutualTLSClientConfig(ca, cert)
	if cfg.MinVersion < tls.VersionTLS12 || cfg.InsecureSkipVerify {
		t.Fatalf("config: MinVersion %x, InsecureSkipVerify %v", cfg.MinVersion, cfg.InsecureSkipVerify)
	}
	if err := dial(addr, "127.0.0.1", cfg); err != nil {
		t.Fatalf("mutual TLS with the loaded client certificate: %v", err)
	}
	// A server that asks for no client certificate ignores it (agents
	// started before mutual TLS).
	plain := serve(t, pki.ServerTLSConfig(serverCert(t, ca, "127.0.0.1"), nil))
	if err := dial(plain, "127.0.0.1", cfg); err != nil {
		t.Fatalf("TLS with a client certificate to a server not asking for one: %v", err)
	}
	// A server of another CA is refused.
	other := newCA(t)
	foreign := serve(t, pki.ServerTLSConfig(serverCert(t, other, "127.0.0.1"), nil))
	if err := dial(foreign, "127.0.0.1", cfg); err == nil {
		t.Fatal("handshake with a server of another CA succeeded")
	}
}
