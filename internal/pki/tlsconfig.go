package pki

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/dockyard/dockyard/internal/errdefs"
)

// ClientTLSConfig returns a client configuration that trusts only the CA
// certificates in caFile (TLS 1.2 or later). With caFile == "" it trusts the
// system's roots, for servers whose operator-provided certificate comes from
// a public CA. It never disables verification.
func ClientTLSConfig(caFile string) (*tls.Config, error) {
	if caFile == "" {
		return &tls.Config{MinVersion: tls.VersionTLS12}, nil
	}
	data, err := os.ReadFile(caFile)
	if err != nil {
		return nil, errdefs.Invalidf("CA file %s: cannot read it (%w); check --ca-file / DOCKYARD_CA_FILE", caFile, unwrapPath(err))
	}
	return ClientTLSConfigPEM(caFile, data)
}

// ClientTLSConfigPEM is ClientTLSConfig for CA certificates already in
// memory; name is used in error messages.
func ClientTLSConfigPEM(name string, caPEM []byte) (*tls.Config, error) {
	certs, err := parseCertsPEM(name, caPEM)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	for _, c := range certs {
		pool.AddCert(c)
	}
	return &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: pool}, nil
}

// ServerTLSConfig returns a server configuration (TLS 1.2 or later) serving
// cert. With clientCAs != nil, clients must present a certificate signed by
// one of them (mutual TLS, as the agent requires).
func ServerTLSConfig(cert tls.Certificate, clientCAs *x509.CertPool) *tls.Config {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}
	if clientCAs != nil {
		cfg.ClientCAs = clientCAs
		cfg.ClientAuth = tls.RequireAndVerifyClientCert
	}
	return cfg
}

// VerifyErrorHint explains a TLS verification failure seen by a client and
// says what to do. caFile is the CA file the client used ("" if none). It
// returns "" when err is not a certificate verification failure.
func VerifyErrorHint(err error, caFile string) string {
	if err == nil {
		return ""
	}
	var (
		unknown  x509.UnknownAuthorityError
		hostname x509.HostnameError
		invalid  x509.CertificateInvalidError
	)
	compare := "compare it with the CA fingerprint the server printed when it started " +
		"(or run: openssl x509 -noout -fingerprint -sha256 -in DATA/pki/ca.pem on the server)"
	switch {
	case errors.As(err, &unknown):
		if caFile == "" {
			return "the server's certificate is not signed by a CA this client trusts. " +
				"Pass --ca-file with the server's CA certificate (DATA/pki/ca.pem on the server; or set DOCKYARD_CA_FILE), and " +
				compare + "."
		}
		fp := "unreadable"
		if data, rerr := os.ReadFile(caFile); rerr == nil {
			if fp = Fingerprint(data); fp == "" {
				fp = "no certificate in the file"
			}
		}
		return fmt.Sprintf("the server's certificate is not signed by the CA in %s (SHA-256 fingerprint %s). "+
			"Pass --ca-file with the CA file of the server you are connecting to, and %s; "+
			"if they differ, the server's CA was recreated or you are not talking to the server you think.", caFile, fp, compare)
	case errors.As(err, &hostname):
		names := "none"
		if hostname.Certificate != nil {
			names = strings.Join(covered(hostname.Certificate), ", ")
		}
		return fmt.Sprintf("the server's certificate does not cover %q (it covers: %s). "+
			"Connect with --server using one of those names, or have the operator issue a certificate for %q.", hostname.Host, names, hostname.Host)
	case errors.As(err, &invalid):
		switch invalid.Reason {
		case x509.Expired:
			span := ""
			if invalid.Cert != nil {
				span = fmt.Sprintf(" (valid from %s to %s; this machine's time is %s)", invalid.Cert.NotBefore.UTC().Format(time.RFC3339),
					invalid.Cert.NotAfter.UTC().Format(time.RFC3339), time.Now().UTC().Format(time.RFC3339))
			}
			return "the server's certificate has expired or is not yet valid" + span +
				". Check the clocks of both machines; if the certificate has expired, the operator must renew it (restarting the server renews its own certificate)."
		case x509.NotAuthorizedToSign, x509.CANotAuthorizedForThisName, x509.IncompatibleUsage:
			return "the certificate chain the server sent is not valid for a TLS server (" + invalid.Error() + "); the operator must issue a proper server certificate."
		}
		return "the server's certificate failed verification (" + invalid.Error() + "). Pass --ca-file with the server's CA file and " + compare + "."
	}
	var verr *tls.CertificateVerificationError
	if errors.As(err, &verr) {
		return "the server's certificate failed verification. Pass --ca-file with the server's CA file and " + compare + "."
	}
	return ""
}
