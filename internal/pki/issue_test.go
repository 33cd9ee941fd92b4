package pki_test

import (
	"crypto/x509"
	"encoding/pem"
	"net"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dockyard/dockyard/internal/pki"
)

func parseCert(t *testing.T, certPEM []byte) *x509.Certificate {
	t.Helper()
	b, _ := pem.Decode(certPEM)
	if b == nil {
		t.Fatal("no PEM block")
	}
	c, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestIssueServerSANs(t *testing.T) {
	ca := newCA(t)
	other := newCA(t)
	hostname, _ := os.Hostname()
	tests := []struct {
		name  string
		hosts []string
		ok    []string
		fail  []string
	}{
		{"dns and ip", []string{"dockyard.example.com", "10.1.2.3"},
			[]string{"dockyard.example.com", "10.1.2.3"}, []string{"other.example.com", "10.1.2.4", "localhost"}},
		{"listen address loopback", []string{"127.0.0.1:8089"},
			[]string{"127.0.0.1", "::1", "localhost", strings.ToLower(hostname)}, []string{"dockyard.example.com", "10.9.9.9"}},
		{"listen address unspecified", []string{"0.0.0.0:8089"},
			[]string{"127.0.0.1", "::1", "localhost"}, []string{"evil.example.com"}},
		{"ipv6 listen", []string{"[::]:8089"},
			[]string{"127.0.0.1", "::1", "localhost"}, []string{"evil.example.com"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			certPEM, keyPEM, err := ca.IssueServer("dockyard", tc.hosts, 24*time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			if len(keyPEM) == 0 {
				t.Fatal("no key")
			}
			cert := parseCert(t, certPEM)
			if got := cert.NotAfter.Sub(cert.NotBefore); got > 25*time.Hour {
				t.Errorf("validity %s, want about the 24h asked", got)
			}
			for _, h := range tc.ok {
				if _, err := cert.Verify(x509.VerifyOptions{Roots: ca.Pool(), DNSName: h}); err != nil {
					t.Errorf("verify for %q: %v", h, err)
				}
				if _, err := cert.Verify(x509.VerifyOptions{Roots: other.Pool(), DNSName: h}); err == nil {
					t.Errorf("verify for %q against another CA succeeded", h)
				}
			}
			for _, h := range tc.fail {
				if _, err := cert.Verify(x509.VerifyOptions{Roots: ca.Pool(), DNSName: h}); err == nil {
					t.Errorf("verify for %q succeeded; the certificate must not cover it", h)
				}
			}
			if slices.ContainsFunc(cert.IPAddresses, net.IP.IsUnspecified) {
				t.Errorf("certificate covers an unspecified address: %v", cert.IPAddresses)
			}
		})
	}
}

func TestIssueRejects(t *testing.T) {
	ca := newCA(t)
	if _, _, err := ca.IssueServer("x", nil, time.Hour); err == nil {
		t.Error("IssueServer without hosts succeeded")
	}
	if _, _, err := ca.IssueServer("x", []string{"a"}, 0); err == nil {
		t.Error("IssueServer with zero validity succeeded")
	}
	if _, _, err := ca.IssueClient("", time.Hour); err == nil {
		t.Error("IssueClient without a name succeeded")
	}
}

func TestIssueCappedAtCAExpiry(t *testing.T) {
	ca := newCA(t)
	certPEM, _, err := ca.IssueClient("agent", 100*365*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if c := parseCert(t, certPEM); c.NotAfter.After(ca.Cert.NotAfter) {
		t.Fatalf("leaf expires %s, after its CA (%s)", c.NotAfter, ca.Cert.NotAfter)
	}
}

func TestExpandHosts(t *testing.T) {
	hostname, _ := os.Hostname()
	hostname = strings.ToLower(hostname)
	local := []string{"127.0.0.1", "::1", "localhost", hostname}
	tests := []struct {
		in      []string
		want    []string // must all be present
		exclude []string
	}{
		{[]string{"Example.COM:443"}, []string{"example.com"}, []string{"localhost"}},
		{[]string{"10.0.0.1"}, []string{"10.0.0.1"}, []string{"localhost"}},
		{[]string{"[2001:db8::1]:8089"}, []string{"2001:db8::1"}, nil},
		{[]string{"127.0.0.1:8089"}, local, nil},
		{[]string{"localhost"}, local, nil},
		{[]string{"0.0.0.0:8089"}, local, []string{"0.0.0.0"}},
		{[]string{":8089"}, local, []string{""}},
		{[]string{"::"}, local, []string{"::"}},
	}
	for _, tc := range tests {
		got := pki.ExpandHosts(tc.in)
		for _, w := range tc.want {
			if !slices.Contains(got, w) {
				t.Errorf("ExpandHosts(%q) = %q, missing %q", tc.in, got, w)
			}
		}
		for _, x := range tc.exclude {
			if slices.Contains(got, x) {
				t.Errorf("ExpandHosts(%q) = %q, must not contain %q", tc.in, got, x)
			}
		}
		seen := map[string]bool{}
		for _, h := range got {
			if seen[h] {
				t.Errorf("ExpandHosts(%q) = %q has duplicate %q", tc.in, got, h)
			}
			seen[h] = true
		}
	}
}
