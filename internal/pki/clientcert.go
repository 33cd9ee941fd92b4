package pki

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// File names of the server's client certificate (mutual TLS towards the
// agents it starts) inside the PKI directory.
const (
	ClientCertFile = "client.pem"
	ClientKeyFile  = "client-key.pem"
)

// LoadOrCreateClientCert returns the client certificate in dir/client.pem
// and dir/client-key.pem if it was issued by ca for client authentication,
// has the common name commonName and stays valid for more than 30 days;
// otherwise it issues a new one valid for ttl (capped at the CA's expiry),
// writes it there (the key with mode 0600) and reports issued = true. An
// existing key file that group or others can read is refused, as for the
// CA key. The server presents this certificate to the agents of the
// containers it starts, which require it (mutual TLS).
func LoadOrCreateClientCert(dir string, ca *CA, commonName string, ttl time.Duration) (cert tls.Certificate, issued bool, err error) {
	certPath, keyPath := filepath.Join(dir, ClientCertFile), filepath.Join(dir, ClientKeyFile)
	if ok, err := exists(keyPath); err != nil {
		return tls.Certificate{}, false, err
	} else if ok {
		if err := checkKeyPerm(keyPath); err != nil {
			return tls.Certificate{}, false, err
		}
	}
	if c, err := tls.LoadX509KeyPair(certPath, keyPath); err == nil && reusableClient(c, ca, commonName) {
		return c, false, nil
	}
	certPEM, keyPEM, err := ca.IssueClient(commonName, ttl)
	if err != nil {
		return tls.Certificate{}, false, fmt.Errorf("client certificate: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return tls.Certificate{}, false, fmt.Errorf("client certificate: create directory %s: %w", dir, err)
	}
	// Key first: a certificate beside a stale key fails to load, and is
	// then reissued.
	if err := writeFileAtomic(keyPath, keyPEM, 0o600); err != nil {
		return tls.Certificate{}, false, err
	}
	if err := writeFileAtomic(certPath, certPEM, 0o644); err != nil {
		return tls.Certificate{}, false, err
	}
	cert, err = tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return tls.Certificate{}, false, fmt.Errorf("client certificate: %w", err)
	}
	return cert, true, nil
}

func reusableClient(c tls.Certificate, ca *CA, commonName string) bool {
	leaf, err := x509.ParseCertificate(c.Certificate[0])
	if err != nil {
		return false
	}
	if leaf.Subject.CommonName != commonName {
		return false
	}
	if time.Until(leaf.NotAfter) <= renewBefore || time.Now().Before(leaf.NotBefore) {
		return false
	}
	_, err = leaf.Verify(x509.VerifyOptions{Roots: ca.Pool(), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
	return err == nil
}

// MutualTLSClientConfig returns a client configuration (TLS 1.2 or later)
// that trusts only ca and presents cert, for talking to agents that
// require a client certificate signed by ca.
func MutualTLSClientConfig(ca *CA, cert tls.Certificate) *tls.Config {
	return &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: ca.Pool(), Certificates: []tls.Certificate{cert}}
}
