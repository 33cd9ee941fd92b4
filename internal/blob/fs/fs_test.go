package fs_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dockyard/dockyard/internal/blob"
	"github.com/dockyard/dockyard/internal/blob/blobtest"
	"github.com/dockyard/dockyard/internal/blob/fs"
)

func newStore(t *testing.T) *fs.Store {
	t.Helper()
	s, err := fs.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestConformance(t *testing.T) {
	blobtest.Run(t, func(t *testing.T) blob.Store { return newStore(t) })
}

func TestLayout(t *testing.T) {
	s := newStore(t)
	d, _, err := s.Put(context.Background(), strings.NewReader("abc"))
	if err != nil {
		t.Fatal(err)
	}
	want := filepath.Join(s.Root(), "sha256", "ba", d.Hex())
	if _, err := os.Stat(want); err != nil {
		t.Fatalf("blob not at %s: %v", want, err)
	}
}

// TestFailedPutsLeaveNoTempFiles checks that a failed or rejected upload
// leaves nothing behind on disk.
func TestFailedPutsLeaveNoTempFiles(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	_, _ = s.PutVerified(ctx, blob.FromBytes([]byte("other")), strings.NewReader("data"))
	_, _, _ = s.Put(ctx, io.MultiReader(strings.NewReader("part"), errReader{}))
	if left := tempFiles(t, s.Root()); len(left) != 0 {
		t.Fatalf("temporary files left behind: %v", left)
	}
	blobs, err := filepath.Glob(filepath.Join(s.Root(), "sha256", "*", "*"))
	if err != nil || len(blobs) != 0 {
		t.Fatalf("blobs stored by failed puts: %v %v", blobs, err)
	}
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("broken") }

func TestCorruption(t *testing.T) {
	data := bytes.Repeat([]byte("model weights "), 5000)
	tests := []struct {
		name    string
		corrupt func(t *testing.T, path string)
	}{
		{"flipped byte", func(t *testing.T, p string) {
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			b[len(b)/2] ^= 0xff
			writeFile(t, p, b)
		}},
		{"truncated", func(t *testing.T, p string) { writeFile(t, p, data[:len(data)-10]) }},
		{"appended", func(t *testing.T, p string) { writeFile(t, p, append(bytes.Clone(data), '!')) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newStore(t)
			ctx := context.Background()
			d, _, err := s.Put(ctx, bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			tc.corrupt(t, filepath.Join(s.Root(), "sha256", d.Hex()[:2], d.Hex()))

			assertCorrupt(t, "Verify", s.Verify(ctx, d), d)

			rc, err := s.Open(ctx, d)
			if err != nil {
				t.Fatal(err)
			}
			_, err = io.ReadAll(rc)
			rc.Close()
			assertCorrupt(t, "ReadAll", err, d)

			// A reader that stops after exactly the blob's size still sees it.
			rc, err = s.Open(ctx, d)
			if err != nil {
				t.Fatal(err)
			}
			size, _ := s.Stat(ctx, d)
			_, err = io.ReadFull(rc, make([]byte, size))
			rc.Close()
			assertCorrupt(t, "ReadFull", err, d)

			// Putting the right bytes again repairs the blob.
			if _, err := s.PutVerified(ctx, d, bytes.NewReader(data)); err != nil {
				t.Fatal(err)
			}
			if err := s.Verify(ctx, d); err != nil {
				t.Fatalf("Verify after re-upload: %v", err)
			}
		})
	}
}

func assertCorrupt(t *testing.T, op string, err error, d blob.Digest) {
	t.Helper()
	if !errors.Is(err, blob.ErrCorrupt) {
		t.Fatalf("%s on a corrupt blob: error = %v, want blob.ErrCorrupt", op, err)
	}
	if !strings.Contains(err.Error(), string(d)) {
		t.Fatalf("%s error %q does not name the digest %s", op, err, d)
	}
}

func writeFile(t *testing.T, p string, b []byte) {
	t.Helper()
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func BenchmarkPut(b *testing.B) {
	s, err := fs.New(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	data := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB
	b.SetBytes(int64(len(data)))
	for i := 0; b.Loop(); i++ {
		data[0] = byte(i) // distinct blobs
		data[1] = byte(i >> 8)
		if _, _, err := s.Put(context.Background(), bytes.NewReader(data)); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkOpenRead(b *testing.B) {
	s, err := fs.New(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	data := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB
	d, _, err := s.Put(context.Background(), bytes.NewReader(data))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		rc, err := s.Open(context.Background(), d)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := io.Copy(io.Discard, rc); err != nil {
			b.Fatal(err)
		}
		rc.Close()
	}
}
