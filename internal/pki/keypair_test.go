package pki_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/pki"
)

// selfSigned makes an operator-style certificate with the given validity
// and DNS names, and returns its PEM cert and key.
func selfSigned(t *testing.T, notBefore, notAfter time.Time, dns ...string) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "operator"},
		NotBefore: notBefore, NotAfter: notAfter, DNSNames: dns,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
}

func write(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadKeyPair(t *testing.T) {
	dir := t.TempDir()
	now := time.Now()
	good, goodKey := selfSigned(t, now.Add(-time.Hour), now.Add(90*24*time.Hour), "dockyard.example.com")
	_, otherKey := selfSigned(t, now.Add(-time.Hour), now.Add(time.Hour), "x")
	expired, expiredKey := selfSigned(t, time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC), "dockyard.example.com")
	future, futureKey := selfSigned(t, now.Add(48*time.Hour), now.Add(96*time.Hour), "dockyard.example.com")

	goodCert, goodKeyFile := write(t, dir, "good.pem", good), write(t, dir, "good-key.pem", goodKey)
	tests := []struct {
		name      string
		cert, key string
		hosts     []string
		wantErr   []string // substrings; nil means success
	}{
		{"valid", goodCert, goodKeyFile, []string{"dockyard.example.com:8089"}, nil},
		{"unspecified listen address skipped", goodCert, goodKeyFile, []string{"0.0.0.0:8089", "dockyard.example.com"}, nil},
		{"cert unreadable", filepath.Join(dir, "nope.pem"), goodKeyFile, nil, []string{"nope.pem", "cannot read"}},
		{"key unreadable", goodCert, filepath.Join(dir, "nope-key.pem"), nil, []string{"nope-key.pem", "cannot read"}},
		{"cert not PEM", write(t, dir, "der.pem", []byte("garbage")), goodKeyFile, nil, []string{"der.pem", "no PEM certificate"}},
		{"key not PEM", goodCert, write(t, dir, "bad-key.pem", []byte("garbage")), nil, []string{"bad-key.pem", "no PEM private key"}},
		{"key is a certificate", goodCert, write(t, dir, "cert-as-key.pem", good), nil, []string{"no PEM private key"}},
		{"key mismatch", goodCert, write(t, dir, "other-key.pem", otherKey), nil, []string{"other-key.pem", "does not match", "good.pem"}},
		{"expired", write(t, dir, "expired.pem", expired), write(t, dir, "expired-key.pem", expiredKey), nil,
			[]string{"expired on 2021-01-01T00:00:00Z", "valid from 2020-01-01T00:00:00Z to 2021-01-01T00:00:00Z", "renew"}},
		{"not yet valid", write(t, dir, "future.pem", future), write(t, dir, "future-key.pem", futureKey), nil,
			[]string{"not valid until " + now.Add(48*time.Hour).UTC().Format("2006-01-02"), "clock"}},
		{"missing SAN", goodCert, goodKeyFile, []string{"10.0.0.5:8089"}, []string{`does not cover "10.0.0.5"`, "dockyard.example.com"}},
		{"missing SAN name", goodCert, goodKeyFile, []string{"localhost"}, []string{`does not cover "localhost"`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cert, err := pki.LoadKeyPair(tc.cert, tc.key, tc.hosts)
			if tc.wantErr == nil {
				if err != nil {
					t.Fatalf("LoadKeyPair: %v", err)
				}
				if cert.Leaf == nil || len(cert.Certificate) != 1 || cert.PrivateKey == nil {
					t.Fatalf("incomplete certificate: %+v", cert)
				}
				return
			}
			if !errdefs.IsInvalid(err) {
				t.Fatalf("error = %v, want ErrInvalid", err)
			}
			for _, sub := range tc.wantErr {
				if !strings.Contains(err.Error(), sub) {
					t.Errorf("error %q does not contain %q", err, sub)
				}
			}
		})
	}
}

func TestLoadOrCreateServerCert(t *testing.T) {
	ca := newCA(t)
	dir := filepath.Dir(ca.CertFile())
	hosts := []string{"127.0.0.1:8089"}
	const ttl = 365 * 24 * time.Hour

	first, issued, err := pki.LoadOrCreateServerCert(dir, ca, hosts, ttl)
	if err != nil || !issued {
		t.Fatalf("first call: issued %v, %v; want issued", issued, err)
	}
	info, err := os.Stat(filepath.Join(dir, "server-key.pem"))
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("server-key.pem: %v, mode %v; want 0600", err, info.Mode())
	}
	if err := os.Chmod(filepath.Join(dir, "server-key.pem"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := pki.LoadOrCreateServerCert(dir, ca, hosts, ttl); !errdefs.IsPermissionDenied(err) || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("readable server key: error = %v, want a refusal saying chmod 600", err)
	}
	if err := os.Chmod(filepath.Join(dir, "server-key.pem"), 0o600); err != nil {
		t.Fatal(err)
	}
	second, issued, err := pki.LoadOrCreateServerCert(dir, ca, hosts, ttl)
	if err != nil || issued {
		t.Fatalf("second call: issued %v, %v; want the existing certificate reused", issued, err)
	}
	if string(first.Certificate[0]) != string(second.Certificate[0]) {
		t.Fatal("second call returned a different certificate")
	}

	// A host the certificate does not cover: reissue, covering both.
	third, issued, err := pki.LoadOrCreateServerCert(dir, ca, append(hosts, "dockyard.example.com"), ttl)
	if err != nil || !issued {
		t.Fatalf("new host: issued %v, %v; want reissued", issued, err)
	}
	leaf, _ := x509.ParseCertificate(third.Certificate[0])
	if leaf.VerifyHostname("dockyard.example.com") != nil || leaf.VerifyHostname("127.0.0.1") != nil {
		t.Fatalf("reissued certificate covers %v %v", leaf.DNSNames, leaf.IPAddresses)
	}

	// Valid for less than 30 more days: reissue.
	certPEM, keyPEM, err := ca.IssueServer("short", hosts, 10*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	write(t, dir, "server.pem", certPEM)
	write(t, dir, "server-key.pem", keyPEM)
	if _, issued, err := pki.LoadOrCreateServerCert(dir, ca, hosts, ttl); err != nil || !issued {
		t.Fatalf("expiring soon: issued %v, %v; want reissued", issued, err)
	}

	// Issued by another CA (the CA was recreated): reissue.
	other := newCA(t)
	if _, issued, err := pki.LoadOrCreateServerCert(dir, other, hosts, ttl); err != nil || !issued {
		t.Fatalf("other CA: issued %v, %v; want reissued", issued, err)
	}
}
