package secrets

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dockyard/dockyard/internal/errdefs"
)

func TestSealOpen(t *testing.T) {
	b, err := New(GenerateKey())
	if err != nil {
		t.Fatal(err)
	}
	const secret = "otel-token-1234567890"
	s1, err := b.Seal(secret, "observability:token")
	if err != nil {
		t.Fatal(err)
	}
	s2, _ := b.Seal(secret, "observability:token")
	if s1 == s2 || strings.Contains(s1, secret) || !strings.HasPrefix(s1, "dy1:") {
		t.Fatalf("Seal gave %q and %q: want distinct, prefixed, opaque values", s1, s2)
	}
	if got, err := b.Open(s1, "observability:token"); err != nil || got != secret {
		t.Fatalf("Open = %q, %v", got, err)
	}
	other, _ := New(GenerateKey())
	raw, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(s1, "dy1:"))
	raw[len(raw)-1] ^= 1
	flipped := "dy1:" + base64.StdEncoding.EncodeToString(raw)
	bad := []struct {
		name, sealed, purpose string
		box                   *Box
	}{
		{"wrong purpose", s1, "registry:docker.io", b},
		{"wrong key", s1, "observability:token", other},
		{"changed", flipped, "observability:token", b},
		{"no prefix", strings.TrimPrefix(s1, "dy1:"), "observability:token", b},
		{"not base64", "dy1:!!", "observability:token", b},
	}
	for _, c := range bad {
		_, err := c.box.Open(c.sealed, c.purpose)
		if !errdefs.IsInvalid(err) || strings.Contains(err.Error(), secret) {
			t.Errorf("%s: Open error = %v, want ErrInvalid without the secret", c.name, err)
		}
	}
	if _, err := New([]byte("short")); !errdefs.IsInvalid(err) {
		t.Errorf("New(short key) error = %v", err)
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "keys", "secret.key")
	b1, err := Load(path, "")
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode = %v, %v; want 0600", fi.Mode(), err)
	}
	sealed, _ := b1.Seal("x", "p")
	b2, err := Load(path, "")
	if err != nil {
		t.Fatal(err)
	}
	if got, err := b2.Open(sealed, "p"); err != nil || got != "x" {
		t.Fatalf("reloaded key does not open: %q, %v", got, err)
	}
	// The environment wins over the file.
	envKey := GenerateKey()
	b3, err := Load(path, base64.StdEncoding.EncodeToString(envKey))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b3.Open(sealed, "p"); err == nil {
		t.Error("a box from the environment key opened a value sealed with the file key")
	}
	if _, err := Load(path, "not-base64!"); !errdefs.IsInvalid(err) {
		t.Errorf("Load(bad env) error = %v", err)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(path, ""); !errdefs.IsPermissionDenied(err) {
		t.Errorf("Load(world-readable key) error = %v, want ErrPermissionDenied", err)
	}
}

func TestLast4(t *testing.T) {
	for in, want := range map[string]string{"": "", "abc": "****", "abcdefg": "****", "abcdefgh": "…efgh", "tok-1234567890": "…7890"} {
		if got := Last4(in); got != want {
			t.Errorf("Last4(%q) = %q, want %q", in, got, want)
		}
	}
}
