package pki

import (
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"strings"

	"github.com/dockyard/dockyard/internal/errdefs"
)

// Fingerprint returns the SHA-256 fingerprint of the first certificate in
// certPEM as colon-separated uppercase hex, the form
// `openssl x509 -noout -fingerprint -sha256` prints. It returns "" if
// certPEM holds no certificate.
func Fingerprint(certPEM []byte) string {
	for {
		var b *pem.Block
		b, certPEM = pem.Decode(certPEM)
		if b == nil {
			return ""
		}
		if b.Type == "CERTIFICATE" {
			return fingerprintDER(b.Bytes)
		}
	}
}

// FingerprintCert returns the SHA-256 fingerprint of cert (see Fingerprint).
func FingerprintCert(cert *x509.Certificate) string { return fingerprintDER(cert.Raw) }

func fingerprintDER(der []byte) string {
	sum := sha256.Sum256(der)
	parts := make([]string, len(sum))
	for i, b := range sum {
		parts[i] = fmt.Sprintf("%02X", b)
	}
	return strings.Join(parts, ":")
}

// parseCertsPEM returns every certificate in data, leaf first as given.
func parseCertsPEM(name string, data []byte) ([]*x509.Certificate, error) {
	var certs []*x509.Certificate
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, errdefs.Invalidf("certificate file %s: cannot parse certificate %d: %w; give a PEM-encoded X.509 certificate", name, len(certs)+1, err)
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		return nil, errdefs.Invalidf("certificate file %s holds no PEM certificate (a block starting -----BEGIN CERTIFICATE-----); give a PEM-encoded certificate, not DER or a key", name)
	}
	return certs, nil
}

func parseCertPEM(name string, data []byte) (*x509.Certificate, error) {
	certs, err := parseCertsPEM(name, data)
	if err != nil {
		return nil, err
	}
	return certs[0], nil
}

// parseKeyPEM parses the first private key in data: PKCS#8, SEC 1 (EC) or
// PKCS#1 (RSA).
func parseKeyPEM(name string, data []byte) (crypto.Signer, error) {
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			return nil, errdefs.Invalidf("key file %s holds no PEM private key (a block starting -----BEGIN PRIVATE KEY-----, EC PRIVATE KEY or RSA PRIVATE KEY); give the unencrypted PEM key", name)
		}
		var key any
		var err error
		switch b.Type {
		case "PRIVATE KEY":
			key, err = x509.ParsePKCS8PrivateKey(b.Bytes)
		case "EC PRIVATE KEY":
			key, err = x509.ParseECPrivateKey(b.Bytes)
		case "RSA PRIVATE KEY":
			key, err = x509.ParsePKCS1PrivateKey(b.Bytes)
		case "ENCRYPTED PRIVATE KEY":
			return nil, errdefs.Invalidf("key file %s is encrypted; give an unencrypted key (openssl pkey -in KEY -out KEY.plain) and protect it with chmod 600", name)
		default:
			continue
		}
		if err != nil {
			return nil, errdefs.Invalidf("key file %s: cannot parse %s: %w", name, b.Type, err)
		}
		signer, ok := key.(crypto.Signer)
		if !ok {
			return nil, errdefs.Invalidf("key file %s: unsupported key type %T", name, key)
		}
		return signer, nil
	}
}
