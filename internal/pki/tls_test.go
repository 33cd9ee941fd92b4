package pki_test

import (
	"crypto/tls"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dockyard/dockyard/internal/pki"
)

// serve accepts TLS connections on loopback with cfg and completes each
// handshake; it returns the address.
func serve(t *testing.T, cfg *tls.Config) string {
	t.Helper()
	ln, err := tls.Listen("tcp", "127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				_ = c.SetDeadline(time.Now().Add(5 * time.Second))
				_ = c.(*tls.Conn).Handshake()
				_, _ = c.Write([]byte("ok"))
				c.Close()
			}()
		}
	}()
	return ln.Addr().String()
}

func dial(addr, serverName string, cfg *tls.Config) error {
	cfg = cfg.Clone()
	cfg.ServerName = serverName
	d := &net.Dialer{Timeout: 5 * time.Second}
	c, err := tls.DialWithDialer(d, "tcp", addr, cfg)
	if err != nil {
		return err
	}
	defer c.Close()
	buf := make([]byte, 2)
	_, err = c.Read(buf)
	return err
}

func serverCert(t *testing.T, ca *pki.CA, hosts ...string) tls.Certificate {
	t.Helper()
	certPEM, keyPEM, err := ca.IssueServer("dockyard", hosts, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

func TestTLSHandshake(t *testing.T) {
	ca := newCA(t)
	addr := serve(t, pki.ServerTLSConfig(serverCert(t, ca, "127.0.0.1:8089"), nil))

	cfg, err := pki.ClientTLSConfig(ca.CertFile())
	if err != nil {
		t.Fatal(err)
	}
	if cfg.InsecureSkipVerify || cfg.MinVersion < tls.VersionTLS12 || cfg.RootCAs == nil {
		t.Fatalf("client config: InsecureSkipVerify %v, MinVersion %x, RootCAs %v", cfg.InsecureSkipVerify, cfg.MinVersion, cfg.RootCAs)
	}
	for _, name := range []string{"127.0.0.1", "localhost"} {
		if err := dial(addr, name, cfg); err != nil {
			t.Errorf("handshake as %q with the server's CA: %v", name, err)
		}
	}

	// A name the certificate does not cover fails, with a hint naming it.
	err = dial(addr, "dockyard.example.com", cfg)
	if err == nil {
		t.Fatal("handshake for an uncovered name succeeded")
	}
	if hint := pki.VerifyErrorHint(err, ca.CertFile()); !strings.Contains(hint, `"dockyard.example.com"`) || !strings.Contains(hint, "127.0.0.1") {
		t.Errorf("hostname hint = %q", hint)
	}

	// A client trusting a different CA fails, and the hint says what to do.
	other := newCA(t)
	otherCfg, err := pki.ClientTLSConfig(other.CertFile())
	if err != nil {
		t.Fatal(err)
	}
	err = dial(addr, "127.0.0.1", otherCfg)
	if err == nil {
		t.Fatal("handshake trusting a different CA succeeded")
	}
	hint := pki.VerifyErrorHint(err, other.CertFile())
	for _, sub := range []string{"--ca-file", other.CertFile(), other.Fingerprint(), "fingerprint the server printed"} {
		if !strings.Contains(hint, sub) {
			t.Errorf("unknown-CA hint %q does not mention %q", hint, sub)
		}
	}
	if hint := pki.VerifyErrorHint(err, ""); !strings.Contains(hint, "--ca-file") {
		t.Errorf("unknown-CA hint without a CA file = %q", hint)
	}
	if hint := pki.VerifyErrorHint(errors.New("connection refused"), ""); hint != "" {
		t.Errorf("hint for a non-TLS error = %q, want empty", hint)
	}
}

func TestMutualTLS(t *testing.T) {
	ca := newCA(t)
	addr := serve(t, pki.ServerTLSConfig(serverCert(t, ca, "127.0.0.1"), ca.Pool()))
	cfg, err := pki.ClientTLSConfigPEM("ca", ca.CertPEM())
	if err != nil {
		t.Fatal(err)
	}
	if err := dial(addr, "127.0.0.1", cfg); err == nil {
		t.Fatal("handshake without a client certificate succeeded")
	}

	// A client certificate from another CA is refused.
	other := newCA(t)
	certPEM, keyPEM, err := other.IssueClient("intruder", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	bad, _ := tls.X509KeyPair(certPEM, keyPEM)
	withBad := cfg.Clone()
	withBad.Certificates = []tls.Certificate{bad}
	if err := dial(addr, "127.0.0.1", withBad); err == nil {
		t.Fatal("handshake with a client certificate from another CA succeeded")
	}

	certPEM, keyPEM, err = ca.IssueClient("server", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	good, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	withGood := cfg.Clone()
	withGood.Certificates = []tls.Certificate{good}
	if err := dial(addr, "127.0.0.1", withGood); err != nil {
		t.Fatalf("mutual TLS handshake: %v", err)
	}
}

func TestExpiredServerHint(t *testing.T) {
	dir := t.TempDir()
	certPEM, keyPEM := selfSigned(t, time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC), "localhost")
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	addr := serve(t, pki.ServerTLSConfig(cert, nil))
	cfg, err := pki.ClientTLSConfig(write(t, dir, "ca.pem", certPEM))
	if err != nil {
		t.Fatal(err)
	}
	err = dial(addr, "localhost", cfg)
	if err == nil {
		t.Fatal("handshake with an expired certificate succeeded")
	}
	if hint := pki.VerifyErrorHint(err, ""); !strings.Contains(hint, "expired") || !strings.Contains(hint, "2021-01-01") {
		t.Errorf("expired hint = %q", hint)
	}
}

func TestClientTLSConfigErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := pki.ClientTLSConfig(filepath.Join(dir, "missing.pem")); err == nil || !strings.Contains(err.Error(), "--ca-file") {
		t.Errorf("missing CA file error = %v", err)
	}
	p := filepath.Join(dir, "garbage.pem")
	if err := os.WriteFile(p, []byte("nope"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := pki.ClientTLSConfig(p); err == nil || !strings.Contains(err.Error(), "no PEM certificate") {
		t.Errorf("garbage CA file error = %v", err)
	}
	cfg, err := pki.ClientTLSConfig("")
	if err != nil || cfg.InsecureSkipVerify || cfg.MinVersion < tls.VersionTLS12 {
		t.Errorf("ClientTLSConfig(\"\") = %+v, %v", cfg, err)
	}
}
