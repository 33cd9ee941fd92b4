// Package secrets seals secrets at rest (observability tokens, registry
// credentials) with AES-256-GCM under one key, taken from the environment
// (DOCKYARD_SECRET_KEY, base64 of 32 bytes) or from a key file in the data
// dir created with owner-only permissions; and helps APIs show only a
// secret's last four characters.
package secrets

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/dockyard/dockyard/internal/errdefs"
)

// EnvKey is the environment variable that may hold the key (base64 of 32
// bytes); it takes precedence over the key file.
const EnvKey = "DOCKYARD_SECRET_KEY"

// KeySize is the key length in bytes (AES-256).
const KeySize = 32

// prefix marks a sealed value and its format version.
const prefix = "dy1:"

// Box seals and opens secrets under one key.
type Box struct {
	aead cipher.AEAD
}

// New returns a Box for a 32-byte key.
func New(key []byte) (*Box, error) {
	if len(key) != KeySize {
		return nil, errdefs.Invalidf("secret key must be %d bytes, got %d", KeySize, len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &Box{aead: aead}, nil
}

// GenerateKey returns a new random key.
func GenerateKey() []byte {
	k := make([]byte, KeySize)
	if _, err := rand.Read(k); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return k
}

// Load returns a Box whose key comes from envValue (the value of
// DOCKYARD_SECRET_KEY, base64) when it is not empty, else from the file at
// keyFile, which is created (mode 0600, directory 0700) when absent. A key
// file that group or others may read is refused.
func Load(keyFile, envValue string) (*Box, error) {
	if envValue = strings.TrimSpace(envValue); envValue != "" {
		k, err := base64.StdEncoding.DecodeString(envValue)
		if err != nil || len(k) != KeySize {
			return nil, errdefs.Invalid(EnvKey + " must be the base64 of 32 random bytes (for example: head -c32 /dev/urandom | base64)")
		}
		return New(k)
	}
	if keyFile == "" {
		return nil, errdefs.Invalid("secrets: set " + EnvKey + " or give a key file path")
	}
	b, err := os.ReadFile(keyFile)
	if errors.Is(err, fs.ErrNotExist) {
		return create(keyFile)
	}
	if err != nil {
		return nil, fmt.Errorf("secret key file %s: %w", keyFile, err)
	}
	if fi, err := os.Stat(keyFile); err == nil && fi.Mode().Perm()&0o077 != 0 {
		return nil, errdefs.PermissionDeniedf("secret key file %s is readable by others (mode %o): run chmod 600 %s", keyFile, fi.Mode().Perm(), keyFile)
	}
	k, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(k) != KeySize {
		return nil, errdefs.Invalidf("secret key file %s does not hold the base64 of 32 bytes", keyFile)
	}
	return New(k)
}

func create(keyFile string) (*Box, error) {
	k := GenerateKey()
	if err := os.MkdirAll(filepath.Dir(keyFile), 0o700); err != nil {
		return nil, fmt.Errorf("secret key file: %w", err)
	}
	f, err := os.OpenFile(keyFile, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("secret key file: %w", err)
	}
	if _, err := f.WriteString(base64.StdEncoding.EncodeToString(k) + "\n"); err != nil {
		f.Close()
		return nil, fmt.Errorf("secret key file %s: %w", keyFile, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return nil, err
	}
	if err := f.Close(); err != nil {
		return nil, err
	}
	return New(k)
}

// Seal encrypts plaintext, bound to purpose (for example
// "registry:docker.io" or "observability:token"): a sealed value opens only
// with the same purpose, so one cannot be swapped for another. The result
// is printable: "dy1:" + base64(nonce || ciphertext).
func (b *Box) Seal(plaintext, purpose string) (string, error) {
	nonce := make([]byte, b.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	out := b.aead.Seal(nonce, nonce, []byte(plaintext), []byte(purpose))
	return prefix + base64.StdEncoding.EncodeToString(out), nil
}

// Open decrypts a value Seal made for the same purpose. A wrong key, a
// wrong purpose or a changed value gives ErrInvalid (without the value).
func (b *Box) Open(sealed, purpose string) (string, error) {
	raw, ok := strings.CutPrefix(sealed, prefix)
	if !ok {
		return "", errdefs.Invalid("sealed secret has an unknown format")
	}
	data, err := base64.StdEncoding.DecodeString(raw)
	if err != nil || len(data) < b.aead.NonceSize() {
		return "", errdefs.Invalid("sealed secret is corrupt")
	}
	n := b.aead.NonceSize()
	pt, err := b.aead.Open(nil, data[:n], data[n:], []byte(purpose))
	if err != nil {
		return "", errdefs.Invalid("sealed secret does not open: wrong key (" + EnvKey + " or key file changed?), wrong purpose, or the value was changed")
	}
	return string(pt), nil
}

// Last4 returns what an API may show of a secret: "…" and its last four
// characters, or "****" when it is shorter than 8 characters (so that most
// of a short secret is never shown); "" stays "".
func Last4(s string) string {
	r := []rune(s)
	switch {
	case len(r) == 0:
		return ""
	case len(r) < 8:
		return "****"
	}
	return "…" + string(r[len(r)-4:])
}
