package pki

import (
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/dockyard/dockyard/internal/errdefs"
)

// AgentCerts is a directory of operator certificates for container agents
// (containers.certs_dir): a pair NAME.pem (the certificate, leaf first,
// then any intermediates) and NAME.key (its private key, mode 0600), each
// checked when a catalogue entry or a container names it, against the CA
// bundle that verifies them (containers.certs_ca_file).
type AgentCerts struct {
	dir    string
	caFile string
	roots  *x509.CertPool
	cas    []*x509.Certificate
	now    func() time.Time
}

// OpenAgentCerts opens the certificates directory dir, whose pairs must
// chain to a CA in caFile.
func OpenAgentCerts(dir, caFile string) (*AgentCerts, error) {
	if dir == "" || caFile == "" {
		return nil, errdefs.Invalid("container certificates need both containers.certs_dir and containers.certs_ca_file")
	}
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return nil, errdefs.Invalidf("containers.certs_dir %s is not a directory (%v): create it and put NAME.pem and NAME.key pairs in it", dir, err)
	}
	b, err := os.ReadFile(caFile)
	if err != nil {
		return nil, errdefs.Invalidf("containers.certs_ca_file %s: cannot read it (%w)", caFile, unwrapPath(err))
	}
	cas, err := parseCertsPEM(caFile, b)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	for _, c := range cas {
		pool.AddCert(c)
	}
	return &AgentCerts{dir: dir, caFile: caFile, roots: pool, cas: cas, now: time.Now}, nil
}

// Certs are the CAs that verify the pairs: whoever dials an agent serving
// one trusts them.
func (a *AgentCerts) Certs() []*x509.Certificate { return append([]*x509.Certificate(nil), a.cas...) }

// SetClock replaces the clock validity is checked against (tests).
func (a *AgentCerts) SetClock(now func() time.Time) { a.now = now }

var certNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)

// CheckCertName checks the name of a pair: a file name without its
// extension, never a path.
func CheckCertName(name string) error {
	if !certNameRE.MatchString(name) || strings.Contains(name, "..") {
		return errdefs.Invalidf("certificate name %q: give the name of a pair NAME.pem/NAME.key in containers.certs_dir (letters, digits, '.', '_', '-'), not a path", name)
	}
	return nil
}

// Load reads the pair called name and checks it for an agent the server
// dials at each of hosts: the key belongs to the certificate, the
// certificate is valid now, its subjectAltNames cover every host, and it
// chains to the CA bundle for TLS server use. Each failure is its own
// errdefs.ErrInvalid error that says what to fix. It returns the PEM of
// the certificate chain and of the key.
func (a *AgentCerts) Load(name string, hosts []string) (certPEM, keyPEM []byte, err error) {
	if err := CheckCertName(name); err != nil {
		return nil, nil, err
	}
	certFile, keyFile := filepath.Join(a.dir, name+".pem"), filepath.Join(a.dir, name+".key")
	certPEM, err = os.ReadFile(certFile)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil, errdefs.NotFoundf("certificate %q: there is no %s in containers.certs_dir: put the pair %s.pem and %s.key there", name, filepath.Base(certFile), name, name)
	}
	if err != nil {
		return nil, nil, errdefs.Invalidf("certificate %q: cannot read %s (%w)", name, certFile, unwrapPath(err))
	}
	if err := checkKeyPerm(keyFile); errors.Is(err, os.ErrNotExist) {
		return nil, nil, errdefs.NotFoundf("certificate %q: there is no key %s beside %s: put the certificate's private key there (mode 0600)", name, filepath.Base(keyFile), filepath.Base(certFile))
	} else if err != nil {
		return nil, nil, fmt.Errorf("certificate %q: %w", name, err)
	}
	keyPEM, err = os.ReadFile(keyFile)
	if err != nil {
		return nil, nil, errdefs.Invalidf("certificate %q: cannot read %s (%w)", name, keyFile, unwrapPath(err))
	}
	if err := a.Check(name, certPEM, keyPEM, hosts); err != nil {
		return nil, nil, err
	}
	return certPEM, keyPEM, nil
}

// Check checks a pair already read (Load's checks).
func (a *AgentCerts) Check(name string, certPEM, keyPEM []byte, hosts []string) error {
	certs, err := parseCertsPEM(name+".pem", certPEM)
	if err != nil {
		return err
	}
	key, err := parseKeyPEM(name+".key", keyPEM)
	if err != nil {
		return err
	}
	leaf := certs[0]
	type equaler interface{ Equal(x crypto.PublicKey) bool }
	if pub, ok := key.Public().(equaler); !ok || !pub.Equal(leaf.PublicKey) {
		return errdefs.Invalidf("certificate %q: the key %s.key does not match the certificate %s.pem (their public keys differ): put the key the certificate was issued for beside it", name, name, name)
	}
	now := a.now()
	span := fmt.Sprintf("valid from %s to %s", leaf.NotBefore.UTC().Format(time.RFC3339), leaf.NotAfter.UTC().Format(time.RFC3339))
	switch {
	case now.After(leaf.NotAfter):
		return errdefs.Invalidf("certificate %q expired on %s (%s): renew %s.pem", name, leaf.NotAfter.UTC().Format(time.RFC3339), span, name)
	case now.Before(leaf.NotBefore):
		return errdefs.Invalidf("certificate %q is not valid until %s (%s): check this machine's clock, or wait", name, leaf.NotBefore.UTC().Format(time.RFC3339), span)
	}
	for _, h := range hosts {
		h = hostOnly(h)
		if ip := net.ParseIP(h); h == "" || (ip != nil && ip.IsUnspecified()) {
			continue
		}
		if leaf.VerifyHostname(h) != nil {
			return errdefs.Invalidf("certificate %q does not cover %q, the address the server dials the agent at (it covers: %s): issue it with a subjectAltName for %q",
				name, h, strings.Join(covered(leaf), ", "), h)
		}
	}
	inter := x509.NewCertPool()
	for _, c := range certs[1:] {
		inter.AddCert(c)
	}
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: a.roots, Intermediates: inter, CurrentTime: now,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}); err != nil {
		return errdefs.Invalidf("certificate %q does not chain to the CA in containers.certs_ca_file %s (%v): issue it from that CA, or put its intermediates after it in %s.pem",
			name, a.caFile, err, name)
	}
	return nil
}
