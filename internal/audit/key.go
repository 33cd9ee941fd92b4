package audit

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/dockyard/dockyard/internal/errdefs"
)

// LoadOrCreateKey reads the ed25519 signing key at path (PKCS#8 PEM), or
// creates one there (mode 0600, directory 0700) when the file does not
// exist. A key file that group or others may read is refused.
func LoadOrCreateKey(path string) (ed25519.PrivateKey, error) {
	b, err := readPrivateFile(path, "audit key")
	if errors.Is(err, fs.ErrNotExist) {
		return createKey(path)
	}
	if err != nil {
		return nil, err
	}
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != "PRIVATE KEY" {
		return nil, errdefs.Invalidf("audit key %s is not a PEM private key", path)
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		return nil, errdefs.Invalidf("audit key %s: %w", path, err)
	}
	priv, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, errdefs.Invalidf("audit key %s is not an ed25519 key", path)
	}
	return priv, nil
}

func createKey(path string) (ed25519.PrivateKey, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, err
	}
	if err := writePrivateFile(path, "audit key", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})); err != nil {
		return nil, err
	}
	return priv, nil
}

// PublicKeyPEM encodes a public key as a PEM "PUBLIC KEY" block.
func PublicKeyPEM(pub ed25519.PublicKey) []byte {
	der, _ := x509.MarshalPKIXPublicKey(pub)
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

// ParsePublicKey reads a public key as PEM ("PUBLIC KEY") or as the
// base64 of its 32 bytes (the form an export's header carries).
func ParsePublicKey(b []byte) (ed25519.PublicKey, error) {
	if blk, _ := pem.Decode(b); blk != nil {
		k, err := x509.ParsePKIXPublicKey(blk.Bytes)
		if err != nil {
			return nil, errdefs.Invalidf("audit public key: %w", err)
		}
		pub, ok := k.(ed25519.PublicKey)
		if !ok {
			return nil, errdefs.Invalid("audit public key is not an ed25519 key")
		}
		return pub, nil
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(raw) != ed25519.PublicKeySize {
		return nil, errdefs.Invalid("audit public key: want PEM or the base64 of 32 bytes")
	}
	return ed25519.PublicKey(raw), nil
}

// KeyID is the first 16 hex characters of SHA-256 of the public key.
func KeyID(pub ed25519.PublicKey) string {
	h := sha256.Sum256(pub)
	return hex.EncodeToString(h[:])[:16]
}

// ChainKeySize is the length of the chain's HMAC-SHA256 key in bytes.
const ChainKeySize = 32

// ReadChainKey reads the chain's HMAC key at path: the base64 of 32 bytes,
// in a file only its owner may read. A missing file is an error that
// matches fs.ErrNotExist.
func ReadChainKey(path string) ([]byte, error) {
	b, err := readPrivateFile(path, "audit chain key")
	if err != nil {
		return nil, err
	}
	k, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(k) != ChainKeySize {
		return nil, errdefs.Invalidf("audit chain key %s does not hold the base64 of %d bytes", path, ChainKeySize)
	}
	return k, nil
}

// createChainKey writes a new random chain key at path (mode 0600).
func createChainKey(path string) ([]byte, error) {
	k := make([]byte, ChainKeySize)
	if _, err := rand.Read(k); err != nil {
		return nil, err
	}
	if err := writePrivateFile(path, "audit chain key", []byte(base64.StdEncoding.EncodeToString(k)+"\n")); err != nil {
		return nil, err
	}
	return k, nil
}

// readPrivateFile reads a key file, refusing one that group or others may
// read. A missing file gives an error matching fs.ErrNotExist.
func readPrivateFile(path, what string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", what, path, err)
	}
	if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o077 != 0 {
		return nil, errdefs.PermissionDeniedf("%s %s is readable by others (mode %o): run chmod 600 %s", what, path, fi.Mode().Perm(), path)
	}
	return b, nil
}

// writePrivateFile creates path (mode 0600, directory 0700; never
// overwriting) with data, synced to disk. The data is written to a
// temporary file first and linked into place, so that a crash never leaves
// a short key file.
func writePrivateFile(path, what string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	tmp := path + ".tmp"
	os.Remove(tmp) // left by a crash during an earlier attempt
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	defer os.Remove(tmp)
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("%s %s: %w", what, path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("%s %s: %w", what, path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("%s %s: %w", what, path, err)
	}
	if err := os.Link(tmp, path); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}
