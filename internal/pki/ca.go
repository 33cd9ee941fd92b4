// Package pki is Dockyard's certificate authority and certificate handling:
// the server's own CA (created on first start under the data directory),
// issuance of server and client (mTLS) leaf certificates, validation of
// operator-provided certificates with errors that say what to fix, SHA-256
// fingerprints for pinning, and the TLS configurations clients and servers
// use. TLS is verified on every hop; nothing here ever skips verification.
package pki

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"time"

	"github.com/dockyard/dockyard/internal/errdefs"
)

// File names inside the PKI directory.
const (
	CACertFile     = "ca.pem"
	CAKeyFile      = "ca-key.pem"
	ServerCertFile = "server.pem"
	ServerKeyFile  = "server-key.pem"
)

// caValidity is how long a newly created CA is valid.
const caValidity = 10 * 365 * 24 * time.Hour

// CA is a certificate authority that can issue leaf certificates.
type CA struct {
	// Cert is the CA certificate.
	Cert    *x509.Certificate
	key     *ecdsa.PrivateKey
	certPEM []byte
	dir     string
}

// CertPEM returns the CA certificate in PEM form (what clients pass as
// --ca-file).
func (c *CA) CertPEM() []byte { return append([]byte(nil), c.certPEM...) }

// CertFile returns the path of the CA certificate file.
func (c *CA) CertFile() string { return filepath.Join(c.dir, CACertFile) }

// Fingerprint returns the CA certificate's SHA-256 fingerprint.
func (c *CA) Fingerprint() string { return FingerprintCert(c.Cert) }

// Pool returns a certificate pool holding only this CA.
func (c *CA) Pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(c.Cert)
	return p
}

// LoadOrCreateCA loads the CA from dir/ca.pem and dir/ca-key.pem, or creates
// a new ECDSA P-256 CA valid for ten years when neither file exists. created
// reports whether it made a new one. The directory is created with mode
// 0700 and the key file with 0600; an existing key file that group or others
// can read is refused.
func LoadOrCreateCA(dir string) (ca *CA, created bool, err error) {
	certPath, keyPath := filepath.Join(dir, CACertFile), filepath.Join(dir, CAKeyFile)
	certExists, err := exists(certPath)
	if err != nil {
		return nil, false, err
	}
	keyExists, err := exists(keyPath)
	if err != nil {
		return nil, false, err
	}
	switch {
	case certExists && keyExists:
		ca, err := loadCA(dir, certPath, keyPath)
		return ca, false, err
	case certExists != keyExists:
		have, lack := certPath, keyPath
		if keyExists {
			have, lack = keyPath, certPath
		}
		return nil, false, errdefs.Invalidf(
			"CA: %s exists but %s does not; restore the missing file from a backup, or move both away to create a new CA (clients must then trust the new ca.pem)", have, lack)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, false, fmt.Errorf("CA: create directory %s: %w", dir, err)
	}
	ca, err = newCA(dir)
	if err != nil {
		return nil, false, err
	}
	keyDER, err := x509.MarshalECPrivateKey(ca.key)
	if err != nil {
		return nil, false, fmt.Errorf("CA: encode key: %w", err)
	}
	// Key first: a crash between the two leaves a key without a
	// certificate, which the check above reports.
	if err := writeFileAtomic(keyPath, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		return nil, false, err
	}
	if err := writeFileAtomic(certPath, ca.certPEM, 0o644); err != nil {
		return nil, false, err
	}
	return ca, true, nil
}

func newCA(dir string) (*CA, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("CA: generate key: %w", err)
	}
	serial, err := randomSerial()
	if err != nil {
		return nil, err
	}
	host, _ := os.Hostname()
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "Dockyard CA " + host, Organization: []string{"Dockyard"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(caValidity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("CA: create certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("CA: parse new certificate: %w", err)
	}
	return &CA{Cert: cert, key: key, certPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), dir: dir}, nil
}

func loadCA(dir, certPath, keyPath string) (*CA, error) {
	if err := checkKeyPerm(keyPath); err != nil {
		return nil, err
	}
	certPEM, err := os.ReadFile(certPath)
	if err != nil {
		return nil, fmt.Errorf("CA: read %s: %w", certPath, err)
	}
	cert, err := parseCertPEM(certPath, certPEM)
	if err != nil {
		return nil, err
	}
	if !cert.IsCA {
		return nil, errdefs.Invalidf("CA: %s is not a CA certificate; restore the CA from a backup", certPath)
	}
	keyPEM, err := os.ReadFile(keyPath)
	if err != nil {
		return nil, fmt.Errorf("CA: read %s: %w", keyPath, err)
	}
	key, err := parseKeyPEM(keyPath, keyPEM)
	if err != nil {
		return nil, err
	}
	ecKey, ok := key.(*ecdsa.PrivateKey)
	if !ok || !ecKey.PublicKey.Equal(cert.PublicKey) {
		return nil, errdefs.Invalidf("CA: the key in %s does not belong to the certificate in %s; restore the matching pair from a backup", keyPath, certPath)
	}
	if time.Now().After(cert.NotAfter) {
		return nil, errdefs.Invalidf("CA: %s expired on %s; move the pki directory away to create a new CA, and give clients the new ca.pem",
			certPath, cert.NotAfter.UTC().Format(time.RFC3339))
	}
	return &CA{Cert: cert, key: ecKey, certPEM: certPEM, dir: dir}, nil
}

// checkKeyPerm refuses a private key file that group or others can access.
func checkKeyPerm(path string) error {
	info, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("key file %s: %w", path, err)
	}
	if mode := info.Mode().Perm(); mode&0o077 != 0 {
		return errdefs.PermissionDeniedf(
			"key file %s has mode %04o: group or others can read it; run: chmod 600 %s", path, mode, path)
	}
	return nil
}

func exists(path string) (bool, error) {
	_, err := os.Stat(path)
	if err == nil {
		return true, nil
	}
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	return false, fmt.Errorf("stat %s: %w", path, err)
}

func randomSerial() (*big.Int, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, fmt.Errorf("generate serial number: %w", err)
	}
	return serial, nil
}

// writeFileAtomic writes data to path via a temporary file and rename, with
// the given mode, and syncs it.
func writeFileAtomic(path string, data []byte, mode os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
