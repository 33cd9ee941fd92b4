package pki

import (
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/dockyard/dockyard/internal/errdefs"
)

// renewBefore is how long before expiry LoadOrCreateServerCert reissues.
const renewBefore = 30 * 24 * time.Hour

// LoadOrCreateServerCert returns the server certificate in dir/server.pem and
// dir/server-key.pem if it was issued by ca, covers every host (after
// ExpandHosts) and stays valid for more than 30 days; otherwise it issues a
// new one valid for ttl, writes it there (the key with mode 0600) and
// reports issued = true. An existing key file that group or others can read
// is refused, as for the CA key.
func LoadOrCreateServerCert(dir string, ca *CA, hosts []string, ttl time.Duration) (cert tls.Certificate, issued bool, err error) {
	certPath, keyPath := filepath.Join(dir, ServerCertFile), filepath.Join(dir, ServerKeyFile)
	if ok, err := exists(keyPath); err != nil {
		return tls.Certificate{}, false, err
	} else if ok {
		if err := checkKeyPerm(keyPath); err != nil {
			return tls.Certificate{}, false, err
		}
	}
	if c, err := tls.LoadX509KeyPair(certPath, keyPath); err == nil && reusable(c, ca, hosts) {
		return c, false, nil
	}
	host, _ := os.Hostname()
	certPEM, keyPEM, err := ca.IssueServer("Dockyard server "+host, hosts, ttl)
	if err != nil {
		return tls.Certificate{}, false, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return tls.Certificate{}, false, fmt.Errorf("server certificate: create directory %s: %w", dir, err)
	}
	if err := writeFileAtomic(keyPath, keyPEM, 0o600); err != nil {
		return tls.Certificate{}, false, err
	}
	if err := writeFileAtomic(certPath, certPEM, 0o644); err != nil {
		return tls.Certificate{}, false, err
	}
	cert, err = tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return tls.Certificate{}, false, fmt.Errorf("server certificate: %w", err)
	}
	return cert, true, nil
}

func reusable(c tls.Certificate, ca *CA, hosts []string) bool {
	leaf, err := x509.ParseCertificate(c.Certificate[0])
	if err != nil {
		return false
	}
	if time.Until(leaf.NotAfter) <= renewBefore || time.Now().Before(leaf.NotBefore) {
		return false
	}
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: ca.Pool(), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}); err != nil {
		return false
	}
	for _, h := range ExpandHosts(hosts) {
		if leaf.VerifyHostname(h) != nil {
			return false
		}
	}
	return true
}

// LoadKeyPair loads an operator-provided certificate (PEM, leaf first,
// optionally followed by intermediates) and its key, and checks them: both
// files readable and PEM, the key belongs to the certificate, the
// certificate is valid now, and it covers every host in hosts (listen
// addresses are accepted; unspecified addresses such as 0.0.0.0 are
// skipped). Errors are of kind errdefs.ErrInvalid and say what to fix.
func LoadKeyPair(certFile, keyFile string, hosts []string) (tls.Certificate, error) {
	certPEM, err := os.ReadFile(certFile)
	if err != nil {
		return tls.Certificate{}, errdefs.Invalidf("TLS certificate file %s: cannot read it (%w); check tls.cert_file and the file's permissions", certFile, unwrapPath(err))
	}
	keyPEM, err := os.ReadFile(keyFile)
	if err != nil {
		return tls.Certificate{}, errdefs.Invalidf("TLS key file %s: cannot read it (%w); check tls.key_file and the file's permissions", keyFile, unwrapPath(err))
	}
	certs, err := parseCertsPEM(certFile, certPEM)
	if err != nil {
		return tls.Certificate{}, err
	}
	key, err := parseKeyPEM(keyFile, keyPEM)
	if err != nil {
		return tls.Certificate{}, err
	}
	leaf := certs[0]
	type equaler interface{ Equal(x crypto.PublicKey) bool }
	if pub, ok := key.Public().(equaler); !ok || !pub.Equal(leaf.PublicKey) {
		return tls.Certificate{}, errdefs.Invalidf(
			"TLS key file %s does not match the certificate in %s (their public keys differ); give the key the certificate was issued for", keyFile, certFile)
	}
	if err := checkValidity(certFile, leaf, time.Now()); err != nil {
		return tls.Certificate{}, err
	}
	for _, h := range hosts {
		h = hostOnly(h)
		if ip := net.ParseIP(h); h == "" || (ip != nil && ip.IsUnspecified()) {
			continue
		}
		if leaf.VerifyHostname(h) != nil {
			return tls.Certificate{}, errdefs.Invalidf(
				"TLS certificate %s does not cover %q (it covers: %s); issue one with a subjectAltName for %q, or listen on an address it covers",
				certFile, h, strings.Join(covered(leaf), ", "), h)
		}
	}
	cert := tls.Certificate{PrivateKey: key, Leaf: leaf}
	for _, c := range certs {
		cert.Certificate = append(cert.Certificate, c.Raw)
	}
	return cert, nil
}

func checkValidity(name string, c *x509.Certificate, now time.Time) error {
	span := fmt.Sprintf("valid from %s to %s", c.NotBefore.UTC().Format(time.RFC3339), c.NotAfter.UTC().Format(time.RFC3339))
	switch {
	case now.After(c.NotAfter):
		return errdefs.Invalidf("TLS certificate %s expired on %s (%s); renew it and restart the server",
			name, c.NotAfter.UTC().Format(time.RFC3339), span)
	case now.Before(c.NotBefore):
		return errdefs.Invalidf("TLS certificate %s is not valid until %s (%s); check this machine's clock, or wait",
			name, c.NotBefore.UTC().Format(time.RFC3339), span)
	}
	return nil
}

// covered lists the names and addresses a certificate is valid for.
func covered(c *x509.Certificate) []string {
	out := append([]string(nil), c.DNSNames...)
	for _, ip := range c.IPAddresses {
		out = append(out, ip.String())
	}
	if len(out) == 0 {
		return []string{"no subjectAltName at all"}
	}
	return out
}

// unwrapPath drops the path from an *os.PathError, which the caller's
// message already names.
func unwrapPath(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}
