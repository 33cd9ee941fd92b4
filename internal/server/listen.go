package server

import (
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"path/filepath"

	"github.com/dockyard/dockyard/internal/config"
	"github.com/dockyard/dockyard/internal/pki"
)

// endpoint is where the server listens and the CA behind its certificates.
type endpoint struct {
	ln          net.Listener // TLS
	ca          *pki.CA
	caFile      string
	fingerprint string
}

// url is the server's HTTPS address.
func (e *endpoint) url() string { return "https://" + e.ln.Addr().String() }

// listen opens the listener and sets up TLS: the operator's certificate
// when configured, else one issued by the server's own CA (created under
// DATA/pki on first start) for the address listened on. The caller
// closes the listener.
func listen(cfg config.Config, out io.Writer) (*endpoint, error) {
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w; choose another --addr", cfg.Addr, err)
	}
	ep, err := setUpTLS(cfg, ln, out)
	if err != nil {
		ln.Close()
		return nil, err
	}
	return ep, nil
}

func setUpTLS(cfg config.Config, ln net.Listener, out io.Writer) (*endpoint, error) {
	pkiDir := filepath.Join(cfg.Data, "pki")
	ca, created, err := pki.LoadOrCreateCA(pkiDir)
	if err != nil {
		return nil, err
	}
	ep := &endpoint{ca: ca, caFile: filepath.Join(pkiDir, "ca.pem"), fingerprint: pki.Fingerprint(ca.CertPEM())}
	var cert tls.Certificate
	if cfg.TLS.CertFile != "" {
		cert, err = pki.LoadKeyPair(cfg.TLS.CertFile, cfg.TLS.KeyFile, []string{hostOf(cfg.Addr)})
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(out, "Serving with the certificate %s.\n", cfg.TLS.CertFile)
	} else {
		hosts := []string{hostOf(cfg.Addr)}
		if cert, _, err = pki.LoadOrCreateServerCert(pkiDir, ca, hosts, cfg.TLS.ServerCertTTL); err != nil {
			return nil, err
		}
		verb := "Using"
		if created {
			verb = "Created"
		}
		fmt.Fprintf(out, "%s the server CA %s\nCA SHA-256 fingerprint: %s\n", verb, ep.caFile, ep.fingerprint)
	}
	ep.ln = tls.NewListener(ln, pki.ServerTLSConfig(cert, nil))
	return ep, nil
}

func hostOf(addr string) string {
	h, _, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	return h
}

// hecCAFile is the CA file that verifies the server's own certificate, for
// notebooks that send events to its collector; "" when an operator's
// certificate (verified by the system's roots) is served.
func (e *endpoint) hecCAFile(cfg config.Config) string {
	if cfg.TLS.CertFile != "" {
		return ""
	}
	return e.caFile
}
