package signing

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/dockyard/dockyard/internal/errdefs"
)

func TestSignVerifyEachKind(t *testing.T) {
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	rs, _ := rsa.GenerateKey(rand.Reader, 2048)
	for _, k := range []crypto.Signer{ec, ed, rs} {
		der, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		signer, err := ParsePrivateKey(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
		if err != nil {
			t.Fatal(err)
		}
		pubDER, _ := x509.MarshalPKIXPublicKey(k.Public())
		pub, err := ParsePublicKey(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER}))
		if err != nil || !strings.HasPrefix(pub.Fingerprint, "sha256:") {
			t.Fatalf("%T: ParsePublicKey = %+v, %v", k, pub, err)
		}
		payload, err := NewPayload("registry.example.com/golden", "sha256:"+strings.Repeat("ab", 32))
		if err != nil {
			t.Fatal(err)
		}
		sig, err := SignPayload(signer, payload)
		if err != nil {
			t.Fatal(err)
		}
		if err := VerifyPayload(pub.Key, payload, sig); err != nil {
			t.Errorf("%T: %v", k, err)
		}
		changed := []byte(strings.Replace(string(payload), "golden", "golder", 1))
		if err := VerifyPayload(pub.Key, changed, sig); !errors.Is(err, ErrBadSignature) {
			t.Errorf("%T: a changed payload verified: %v", k, err)
		}
		if p, err := ParsePayload(payload); err != nil || p.Critical.Identity.DockerReference != "registry.example.com/golden" {
			t.Errorf("ParsePayload = %+v, %v", p, err)
		}
	}
}

func TestKeyInput(t *testing.T) {
	weak, _ := rsa.GenerateKey(rand.Reader, 1024)
	der, _ := x509.MarshalPKIXPublicKey(weak.Public())
	for _, tc := range []struct{ pem, want string }{
		{"", "no PEM public key"},
		{"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", "holds a private key"},
		{string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: []byte("junk")})), "does not parse"},
		{string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})), "too weak"},
	} {
		if _, err := ParsePublicKey([]byte(tc.pem)); !errdefs.IsInvalid(err) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParsePublicKey(%.30q) = %v, want %q", tc.pem, err, tc.want)
		}
	}
	if _, err := ParsePrivateKey([]byte("-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n")); err == nil || !strings.Contains(err.Error(), "cosign sign") {
		t.Errorf("encrypted cosign key: %v", err)
	}
	if _, err := ParsePayload([]byte(`{"critical":{"type":"cosign container image signature","image":{"docker-manifest-digest":"sha256:1"}}}`)); !errdefs.IsInvalid(err) {
		t.Errorf("payload with a bad digest: %v", err)
	}
}

func TestLoadOrCreateEd25519(t *testing.T) {
	p := t.TempDir() + "/model-signing.key"
	k1, err := LoadOrCreateEd25519(p)
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(p)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode = %v, %v; want 0600", st.Mode(), err)
	}
	k2, err := LoadOrCreateEd25519(p)
	if err != nil || !k1.Equal(k2) {
		t.Fatalf("reloaded key differs: %v", err)
	}
	if err := os.WriteFile(p, []byte("junk"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadOrCreateEd25519(p); err == nil {
		t.Fatal("a damaged key file was accepted (or replaced)")
	}
}
