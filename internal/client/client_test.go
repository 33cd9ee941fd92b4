package client

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/wire"
)

// tlsServer serves h over TLS and writes its certificate to a CA file.
func tlsServer(t *testing.T, h http.Handler) (srv *httptest.Server, caFile string) {
	t.Helper()
	srv = httptest.NewTLSServer(h)
	t.Cleanup(srv.Close)
	caFile = filepath.Join(t.TempDir(), "ca.pem")
	b := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	if err := os.WriteFile(caFile, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return srv, caFile
}

func TestNewRefusesBadServers(t *testing.T) {
	for _, tc := range []struct{ server, want string }{
		{"", "is not valid"},
		{"http://127.0.0.1:8089", "must use https"},
		{"https://", "is not valid"},
	} {
		_, err := New(Options{Server: tc.server})
		if !errdefs.IsInvalid(err) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("New(%q) = %v, want an Invalid error saying %q", tc.server, err, tc.want)
		}
	}
	_, err := New(Options{Server: "https://127.0.0.1:1", CAFile: filepath.Join(t.TempDir(), "missing.pem")})
	if !errdefs.IsInvalid(err) || !strings.Contains(err.Error(), "--ca-file") {
		t.Errorf("a missing CA file: %v", err)
	}
	junk := filepath.Join(t.TempDir(), "junk.pem")
	os.WriteFile(junk, []byte("not pem"), 0o600)
	if _, err := New(Options{Server: "https://127.0.0.1:1", CAFile: junk}); !errdefs.IsInvalid(err) || !strings.Contains(err.Error(), "no PEM certificate") {
		t.Errorf("a CA file without certificates: %v", err)
	}
}

// TestRequestHeadersAndBody: the token, app, protocol version and JSON
// body reach the server; the answer is decoded.
func TestRequestHeadersAndBody(t *testing.T) {
	srv, ca := tlsServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer s3cret" || r.Header.Get("Dockyard-App") != "fraud" ||
			r.Header.Get("Dockyard-Protocol") != wire.ProtocolVersion || r.Header.Get("Content-Type") != "application/json" {
			http.Error(w, "headers: "+r.Header.Get("Authorization")+r.Header.Get("Dockyard-App"), http.StatusTeapot)
			return
		}
		if r.URL.Path != "/v1/echo" || r.URL.Query().Get("q") != "a b" {
			http.Error(w, "path "+r.URL.String(), http.StatusTeapot)
			return
		}
		var in map[string]string
		json.NewDecoder(r.Body).Decode(&in)
		json.NewEncoder(w).Encode(map[string]string{"got": in["say"]})
	}))
	c, err := New(Options{Server: srv.URL, CAFile: ca, Token: "s3cret", App: "fraud"})
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]string
	if err := c.Do(context.Background(), "POST", "/v1/echo?q=a+b", map[string]string{"say": "hi"}, &out); err != nil {
		t.Fatal(err)
	}
	if out["got"] != "hi" {
		t.Fatalf("answer %v", out)
	}
}

// TestErrorAnswersKeepTheirKind: an error answer comes back as its kind
// with the server's message, by the API's one table.
func TestErrorAnswersKeepTheirKind(t *testing.T) {
	for _, tc := range []struct {
		status int
		code   string
		is     func(error) bool
	}{
		{404, "not_found", errdefs.IsNotFound},
		{403, "permission_denied", errdefs.IsPermissionDenied},
		{401, "unauthenticated", errdefs.IsUnauthenticated},
		{409, "conflict", errdefs.IsConflict},
		{400, "invalid", errdefs.IsInvalid},
		{429, "limit", errdefs.IsLimit},
		{413, "too_large", errdefs.IsLimit},
		{503, "unavailable", errdefs.IsUnavailable},
		{418, "", errdefs.IsInvalid},     // an unknown 4xx
		{502, "", errdefs.IsUnavailable}, // an unknown 5xx
	} {
		srv, ca := tlsServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(tc.status)
			json.NewEncoder(w).Encode(wire.Error{Error: "what went wrong, and what to do", Code: tc.code})
		}))
		c, err := New(Options{Server: srv.URL, CAFile: ca})
		if err != nil {
			t.Fatal(err)
		}
		err = c.Do(context.Background(), "GET", "/v1/x", nil, nil)
		if err == nil || !tc.is(err) || !strings.Contains(err.Error(), "what went wrong, and what to do") {
			t.Errorf("status %d code %q: got %v (kind %v)", tc.status, tc.code, err, errdefs.Kind(err))
		}
	}
}

// TestUntrustedServerIsAdvice: a server whose certificate this machine
// does not trust is refused (never skipped), with what to do.
func TestUntrustedServerIsAdvice(t *testing.T) {
	srv, _ := tlsServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	c, err := New(Options{Server: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	err = c.Do(context.Background(), "GET", "/v1/x", nil, nil)
	if !errdefs.IsUnavailable(err) || !strings.Contains(err.Error(), "--ca-file") {
		t.Fatalf("untrusted server: %v", err)
	}
	otherCA := selfSignedCA(t)
	c, _ = New(Options{Server: srv.URL, CAFile: otherCA})
	if err := c.Do(context.Background(), "GET", "/v1/x", nil, nil); !errdefs.IsUnavailable(err) || !strings.Contains(err.Error(), "not signed by that CA") {
		t.Fatalf("wrong CA file: %v", err)
	}
}

// selfSignedCA writes a CA certificate no test server uses.
func selfSignedCA(t *testing.T) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "another CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true,
		BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(t.TempDir(), "other-ca.pem")
	if err := os.WriteFile(f, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}
