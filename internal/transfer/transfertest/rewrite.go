// Package transfertest helps tests tamper with model bundles (tar
// archives), to prove that a changed bundle is refused.
package transfertest

import (
	"archive/tar"
	"bytes"
	"io"
	"slices"
	"testing"
)

// Rewrite copies the tar archive in through edit, which may change an
// entry's content or drop it (by returning nil), and adds the extra
// entries (name → content) at the end, by name.
func Rewrite(t testing.TB, in []byte, edit func(name string, b []byte) []byte, extra map[string]string) []byte {
	t.Helper()
	var out bytes.Buffer
	tr, tw := tar.NewReader(bytes.NewReader(in)), tar.NewWriter(&out)
	write := func(h *tar.Header, b []byte) {
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(b); err != nil {
			t.Fatal(err)
		}
	}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		if b = edit(h.Name, b); b == nil {
			continue
		}
		h.Size = int64(len(b))
		write(h, b)
	}
	names := make([]string, 0, len(extra))
	for name := range extra {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		write(&tar.Header{Name: name, Size: int64(len(extra[name])), Mode: 0o644, Typeflag: tar.TypeReg}, []byte(extra[name]))
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}
