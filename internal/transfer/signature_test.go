package transfer

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/dockyard/dockyard/internal/errdefs"
)

func signedArchive(t *testing.T, key ed25519.PrivateKey, meta Metadata) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := NewWriter(&buf, time.Unix(0, 0))
	body := []byte("weights")
	man := Manifest{Files: []File{{Path: "model.pkl", Size: int64(len(body)), Digest: FromBytes(body)}}}
	if err := w.WriteMeta(man, meta); err != nil {
		t.Fatal(err)
	}
	if err := w.WriteSignature(key); err != nil {
		t.Fatal(err)
	}
	if _, err := w.WriteFile(man.Files[0], bytes.NewReader(body)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func discard(_ string, r io.Reader) (Digest, int64, error) {
	b, err := io.ReadAll(r)
	return FromBytes(b), int64(len(b)), err
}

func TestSignedBundle(t *testing.T) {
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	id, _, _ := KeyID(key.Public().(ed25519.PublicKey))
	a := signedArchive(t, key, Metadata{Model: "churn", Algo: "sklearn"})
	b, err := ReadBundle(bytes.NewReader(a), discard)
	if err != nil || b.Signature == nil || b.Signer != id || b.Metadata.Algo != "sklearn" || len(b.Files) != 1 {
		t.Fatalf("ReadBundle = %+v, %v; want signed by %s", b, err, id)
	}
	// Unsigned archives still read, without a signer.
	var plain bytes.Buffer
	if err := WriteFiles(&plain, []File{{Path: "a", Size: 1, Reader: strings.NewReader("x")}}); err != nil {
		t.Fatal(err)
	}
	if b, err := ReadBundle(&plain, discard); err != nil || b.Signature != nil || b.Signer != "" {
		t.Fatalf("unsigned = %+v, %v", b, err)
	}
	// Each change keeps every entry's size, so only the signature can
	// tell.
	for _, tc := range []struct{ name, at, want string }{
		{"metadata changed", `"skl`, "signs other content"},
		{"signature's digest changed", `"metadata": "sha256:`, "signs other content"},
		{"another key named", `"key_id": "sha256:`, "names key"},
		{"signature changed", `"signature": "`, "does not verify"},
	} {
		bad := bytes.Clone(a)
		i := bytes.Index(bad, []byte(tc.at))
		if i < 0 {
			t.Fatalf("%s: %s not in the archive", tc.name, tc.at)
		}
		i += len(tc.at)
		if bad[i] == 'a' {
			bad[i] = 'b'
		} else {
			bad[i] = 'a'
		}
		if _, err := ReadBundle(bytes.NewReader(bad), discard); !errdefs.IsInvalid(err) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: ReadBundle = %v, want invalid saying %q", tc.name, err, tc.want)
		}
	}
	// A signature by another key over the same archive names that key.
	_, other, _ := ed25519.GenerateKey(rand.Reader)
	if b, err := ReadBundle(bytes.NewReader(signedArchive(t, other, Metadata{Model: "churn"})), discard); err != nil || b.Signer == id {
		t.Errorf("another key's bundle = %+v, %v", b, err)
	}
}
