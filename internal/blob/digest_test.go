package blob_test

import (
	"strings"
	"testing"

	"github.com/dockyard/dockyard/internal/blob"
	"github.com/dockyard/dockyard/internal/errdefs"
)

func TestParseDigest(t *testing.T) {
	valid := "sha256:" + strings.Repeat("0a", 32)
	tests := []struct {
		in string
		ok bool
	}{
		{valid, true},
		{string(blob.FromBytes(nil)), true},
		{"", false},
		{"sha256:", false},
		{strings.Repeat("0a", 32), false},                      // no algorithm
		{"sha512:" + strings.Repeat("0a", 32), false},          // wrong algorithm
		{"SHA256:" + strings.Repeat("0a", 32), false},          // algorithm case
		{"sha256:" + strings.Repeat("0A", 32), false},          // uppercase hex
		{"sha256:" + strings.Repeat("0a", 31), false},          // short
		{"sha256:" + strings.Repeat("0a", 32) + "0", false},    // long
		{"sha256:" + strings.Repeat("zz", 32), false},          // not hex
		{"sha256:../" + strings.Repeat("0a", 30) + "a", false}, // path
		{" sha256:" + strings.Repeat("0a", 32), false},         // space
	}
	for _, tc := range tests {
		d, err := blob.ParseDigest(tc.in)
		switch {
		case tc.ok && (err != nil || string(d) != tc.in):
			t.Errorf("ParseDigest(%q) = %q, %v; want it accepted", tc.in, d, err)
		case !tc.ok && !errdefs.IsInvalid(err):
			t.Errorf("ParseDigest(%q) error = %v; want ErrInvalid", tc.in, err)
		case !tc.ok && !strings.Contains(err.Error(), "sha256:"):
			t.Errorf("ParseDigest(%q) error %q does not say what a digest looks like", tc.in, err)
		}
	}
}

func TestFromBytesAndHex(t *testing.T) {
	d := blob.FromBytes([]byte("abc"))
	const want = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
	if d != blob.Digest("sha256:"+want) || d.Hex() != want {
		t.Fatalf("FromBytes(abc) = %s (hex %s), want sha256:%s", d, d.Hex(), want)
	}
	if _, err := blob.ParseDigest(string(d)); err != nil {
		t.Fatalf("FromBytes result does not parse: %v", err)
	}
}
