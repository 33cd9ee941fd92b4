package pki

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/dockyard/dockyard/internal/errdefs"
)

// IssueServer issues a server certificate signed by the CA, valid for ttl
// (capped at the CA's own expiry), with a subjectAltName for every host
// after ExpandHosts. hosts may be names, IP addresses or listen addresses
// (host:port).
func (c *CA) IssueServer(commonName string, hosts []string, ttl time.Duration) (certPEM, keyPEM []byte, err error) {
	expanded := ExpandHosts(hosts)
	if len(expanded) == 0 {
		return nil, nil, errdefs.Invalid("issue server certificate: no hosts given; give the address clients connect to")
	}
	tmpl := &x509.Certificate{
		Subject:     pkix.Name{CommonName: commonName, Organization: []string{"Dockyard"}},
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	for _, h := range expanded {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	return c.issue(tmpl, ttl)
}

// IssueClient issues a client certificate for mutual TLS, valid for ttl.
func (c *CA) IssueClient(commonName string, ttl time.Duration) (certPEM, keyPEM []byte, err error) {
	if commonName == "" {
		return nil, nil, errdefs.Invalid("issue client certificate: empty common name")
	}
	tmpl := &x509.Certificate{
		Subject:     pkix.Name{CommonName: commonName, Organization: []string{"Dockyard"}},
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	return c.issue(tmpl, ttl)
}

func (c *CA) issue(tmpl *x509.Certificate, ttl time.Duration) (certPEM, keyPEM []byte, err error) {
	if ttl <= 0 {
		return nil, nil, errdefs.Invalidf("issue certificate %q: validity %s must be positive", tmpl.Subject.CommonName, ttl)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("generate key: %w", err)
	}
	if tmpl.SerialNumber, err = randomSerial(); err != nil {
		return nil, nil, err
	}
	now := time.Now()
	tmpl.NotBefore = now.Add(-5 * time.Minute) // tolerate small clock skew
	tmpl.NotAfter = now.Add(ttl)
	if tmpl.NotAfter.After(c.Cert.NotAfter) {
		tmpl.NotAfter = c.Cert.NotAfter
	}
	tmpl.BasicConstraintsValid = true
	der, err := x509.CreateCertificate(rand.Reader, tmpl, c.Cert, &key.PublicKey, c.key)
	if err != nil {
		return nil, nil, fmt.Errorf("issue certificate %q: %w", tmpl.Subject.CommonName, err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, nil, fmt.Errorf("encode key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), nil
}

// ExpandHosts turns listen addresses and names into the list of names a
// server certificate should cover. Ports are dropped. A loopback address
// (127.0.0.1, ::1, localhost) or an unspecified one (0.0.0.0, ::, empty host)
// adds 127.0.0.1, ::1, localhost and the machine's hostname; an unspecified
// one also adds the addresses of the machine's interfaces, since clients
// may connect on any of them. The unspecified address itself is never
// included. The result has no duplicates.
func ExpandHosts(hosts []string) []string {
	var out []string
	add := func(h string) {
		if h != "" && !slices.Contains(out, h) {
			out = append(out, h)
		}
	}
	for _, h := range hosts {
		h = hostOnly(h)
		ip := net.ParseIP(h)
		switch {
		case h == "" || (ip != nil && ip.IsUnspecified()):
			addLocal(add)
			for _, a := range interfaceIPs() {
				add(a)
			}
		case h == "localhost" || (ip != nil && ip.IsLoopback()):
			add(h)
			addLocal(add)
		case ip != nil:
			add(ip.String())
		default:
			add(strings.ToLower(h))
		}
	}
	return out
}

func addLocal(add func(string)) {
	add("127.0.0.1")
	add("::1")
	add("localhost")
	if name, err := os.Hostname(); err == nil {
		add(strings.ToLower(name))
	}
}

// hostOnly strips a port and IPv6 brackets: "[::1]:8089" → "::1",
// "example.com:443" → "example.com", "10.0.0.1" → "10.0.0.1".
func hostOnly(h string) string {
	h = strings.TrimSpace(h)
	if host, _, err := net.SplitHostPort(h); err == nil {
		return host
	}
	return strings.TrimSuffix(strings.TrimPrefix(h, "["), "]")
}

func interfaceIPs() []string {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return nil
	}
	var out []string
	for _, a := range addrs {
		ipnet, ok := a.(*net.IPNet)
		if !ok || ipnet.IP.IsLinkLocalUnicast() || ipnet.IP.IsLinkLocalMulticast() {
			continue
		}
		out = append(out, ipnet.IP.String())
	}
	return out
}
