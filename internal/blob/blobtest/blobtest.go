// Package blobtest is the conformance suite every blob.Store implementation
// runs, in one line:
//
//	func TestConformance(t *testing.T) {
//		blobtest.Run(t, func(t *testing.T) blob.Store { return newStore(t) })
//	}
//
// open must return a new, empty store for each call.
package blobtest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"

	"github.com/dockyard/dockyard/internal/blob"
	"github.com/dockyard/dockyard/internal/errdefs"
)

// Run runs the conformance suite against stores made by open.
func Run(t *testing.T, open func(t *testing.T) blob.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s blob.Store)
	}{
		{"RoundTrip", testRoundTrip},
		{"Empty", testEmpty},
		{"Idempotent", testIdempotent},
		{"DigestStable", testDigestStable},
		{"Missing", testMissing},
		{"NotFound", testNotFound},
		{"InvalidDigest", testInvalidDigest},
		{"Delete", testDelete},
		{"PutVerified", testPutVerified},
		{"PutVerifiedMismatch", testPutVerifiedMismatch},
		{"Large", testLarge},
		{"ConcurrentPuts", testConcurrentPuts},
		{"TruncatedReader", testTruncatedReader},
		{"ContextCanceled", testContextCanceled},
		{"Verify", testVerify},
		{"List", testList},
		{"DeleteUnused", testDeleteUnused},
		{"DeleteUnusedKeepsChecked", testDeleteUnusedKeepsChecked},
		{"TrackCreated", testTrackCreated},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.fn(t, open(t))
		})
	}
}

func put(t *testing.T, s blob.Store, data []byte) blob.Digest {
	t.Helper()
	d, n, err := s.Put(context.Background(), bytes.NewReader(data))
	if err != nil {
		t.Fatalf("Put(%d bytes): %v", len(data), err)
	}
	if n != int64(len(data)) {
		t.Fatalf("Put size = %d, want %d", n, len(data))
	}
	return d
}

func readAll(t *testing.T, s blob.Store, d blob.Digest) []byte {
	t.Helper()
	rc, err := s.Open(context.Background(), d)
	if err != nil {
		t.Fatalf("Open(%s): %v", d, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("read %s: %v", d, err)
	}
	return b
}

func assertMissing(t *testing.T, s blob.Store, ds ...blob.Digest) {
	t.Helper()
	got, err := s.Missing(context.Background(), ds)
	if err != nil {
		t.Fatalf("Missing: %v", err)
	}
	if len(got) != len(ds) {
		t.Fatalf("Missing(%v) = %v: something was stored that should not have been", ds, got)
	}
}

func testRoundTrip(t *testing.T, s blob.Store) {
	data := []byte("petal_width,sepal_length\n0.2,5.1\n")
	d := put(t, s, data)
	if want := blob.FromBytes(data); d != want {
		t.Fatalf("digest = %s, want %s", d, want)
	}
	if got := readAll(t, s, d); !bytes.Equal(got, data) {
		t.Fatalf("read back %q, want %q", got, data)
	}
	size, err := s.Stat(context.Background(), d)
	if err != nil || size != int64(len(data)) {
		t.Fatalf("Stat = %d, %v; want %d, nil", size, err, len(data))
	}
}

func testEmpty(t *testing.T, s blob.Store) {
	d := put(t, s, nil)
	if got := readAll(t, s, d); len(got) != 0 {
		t.Fatalf("empty blob read back %d bytes", len(got))
	}
}

func testIdempotent(t *testing.T, s blob.Store) {
	data := []byte("same bytes")
	d1 := put(t, s, data)
	d2 := put(t, s, data)
	if d1 != d2 {
		t.Fatalf("two Puts of the same bytes gave %s and %s", d1, d2)
	}
	if got := readAll(t, s, d1); !bytes.Equal(got, data) {
		t.Fatalf("read back %q after second Put", got)
	}
}

func testDigestStable(t *testing.T, s blob.Store) {
	// Known SHA-256 vectors: the digest must not depend on the store.
	for data, want := range map[string]blob.Digest{
		"":    "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
		"abc": "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
	} {
		if got := put(t, s, []byte(data)); got != want {
			t.Errorf("Put(%q) = %s, want %s", data, got, want)
		}
	}
}

func testMissing(t *testing.T, s blob.Store) {
	a := put(t, s, []byte("a"))
	b, c := blob.FromBytes([]byte("b")), blob.FromBytes([]byte("c"))
	got, err := s.Missing(context.Background(), []blob.Digest{b, a, c})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0] != b || got[1] != c {
		t.Fatalf("Missing = %v, want [%s %s] in the order asked", got, b, c)
	}
	if got, err := s.Missing(context.Background(), nil); err != nil || len(got) != 0 {
		t.Fatalf("Missing(nil) = %v, %v", got, err)
	}
}

func testNotFound(t *testing.T, s blob.Store) {
	d := blob.FromBytes([]byte("never stored"))
	if _, err := s.Open(context.Background(), d); !errdefs.IsNotFound(err) {
		t.Errorf("Open(missing) error = %v, want ErrNotFound", err)
	}
	if _, err := s.Stat(context.Background(), d); !errdefs.IsNotFound(err) {
		t.Errorf("Stat(missing) error = %v, want ErrNotFound", err)
	}
	if err := s.Verify(context.Background(), d); !errdefs.IsNotFound(err) {
		t.Errorf("Verify(missing) error = %v, want ErrNotFound", err)
	}
}

func testInvalidDigest(t *testing.T, s blob.Store) {
	for _, d := range []blob.Digest{"", "sha256:../../etc/passwd", "md5:abc", blob.Digest("sha256:" + strings.Repeat("A", 64))} {
		if _, err := s.Open(context.Background(), d); !errdefs.IsInvalid(err) {
			t.Errorf("Open(%q) error = %v, want ErrInvalid", d, err)
		}
		if _, err := s.Stat(context.Background(), d); !errdefs.IsInvalid(err) {
			t.Errorf("Stat(%q) error = %v, want ErrInvalid", d, err)
		}
		if err := s.Delete(context.Background(), d); !errdefs.IsInvalid(err) {
			t.Errorf("Delete(%q) error = %v, want ErrInvalid", d, err)
		}
		if _, err := s.PutVerified(context.Background(), d, strings.NewReader("x")); !errdefs.IsInvalid(err) {
			t.Errorf("PutVerified(%q) error = %v, want ErrInvalid", d, err)
		}
	}
}

func testDelete(t *testing.T, s blob.Store) {
	d := put(t, s, []byte("to delete"))
	if err := s.Delete(context.Background(), d); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	assertMissing(t, s, d)
	if err := s.Delete(context.Background(), d); err != nil {
		t.Fatalf("Delete of a missing blob: %v, want nil", err)
	}
}

func testPutVerified(t *testing.T, s blob.Store) {
	data := []byte("verified upload")
	want := blob.FromBytes(data)
	n, err := s.PutVerified(context.Background(), want, bytes.NewReader(data))
	if err != nil || n != int64(len(data)) {
		t.Fatalf("PutVerified = %d, %v; want %d, nil", n, err, len(data))
	}
	if got := readAll(t, s, want); !bytes.Equal(got, data) {
		t.Fatalf("read back %q", got)
	}
}

func testPutVerifiedMismatch(t *testing.T, s blob.Store) {
	data := []byte("what was actually sent")
	want := blob.FromBytes([]byte("what the client said it would send"))
	_, err := s.PutVerified(context.Background(), want, bytes.NewReader(data))
	if !errdefs.IsInvalid(err) {
		t.Fatalf("PutVerified mismatch error = %v, want ErrInvalid", err)
	}
	msg := err.Error()
	for _, sub := range []string{string(want), string(blob.FromBytes(data)), "again"} {
		if !strings.Contains(msg, sub) {
			t.Errorf("error %q does not mention %q", msg, sub)
		}
	}
	assertMissing(t, s, want, blob.FromBytes(data))
}

// patternReader yields n deterministic pseudo-random bytes without holding
// them in memory.
func patternReader(n int64, seed uint64) io.Reader {
	return io.LimitReader(&randReader{r: rand.New(rand.NewPCG(seed, seed))}, n)
}

type randReader struct{ r *rand.Rand }

func (r *randReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(r.r.Uint32())
	}
	return len(p), nil
}

func testLarge(t *testing.T, s blob.Store) {
	const size = 5<<20 + 123 // a few MiB, not a multiple of any buffer size
	h := sha256.New()
	d, n, err := s.Put(context.Background(), io.TeeReader(patternReader(size, 7), h))
	if err != nil {
		t.Fatalf("Put large: %v", err)
	}
	want := blob.Digest("sha256:" + hex.EncodeToString(h.Sum(nil)))
	if d != want || n != size {
		t.Fatalf("Put large = %s, %d; want %s, %d", d, n, want, size)
	}
	rc, err := s.Open(context.Background(), d)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	h2 := sha256.New()
	m, err := io.Copy(h2, rc)
	if err != nil {
		t.Fatalf("read large: %v", err)
	}
	if got := hex.EncodeToString(h2.Sum(nil)); m != size || got != d.Hex() {
		t.Fatalf("read back %d bytes hashing to %s, want %d bytes, %s", m, got, size, d.Hex())
	}
}

func testConcurrentPuts(t *testing.T, s blob.Store) {
	const workers = 8
	same := bytes.Repeat([]byte("concurrent"), 10000)
	var wg sync.WaitGroup
	errs := make(chan error, 2*workers)
	digests := make(chan blob.Digest, workers)
	for i := range workers {
		wg.Add(2)
		go func() {
			defer wg.Done()
			d, _, err := s.Put(context.Background(), bytes.NewReader(same))
			errs <- err
			digests <- d
		}()
		go func() {
			defer wg.Done()
			_, _, err := s.Put(context.Background(), patternReader(50000, uint64(i)))
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	close(digests)
	for err := range errs {
		if err != nil {
			t.Errorf("concurrent Put: %v", err)
		}
	}
	for d := range digests {
		if d != blob.FromBytes(same) {
			t.Errorf("concurrent Put digest = %s, want %s", d, blob.FromBytes(same))
		}
	}
	if got := readAll(t, s, blob.FromBytes(same)); !bytes.Equal(got, same) {
		t.Fatal("blob written concurrently does not read back intact")
	}
}

// failingReader returns data, then err.
type failingReader struct {
	data []byte
	err  error
}

func (f *failingReader) Read(p []byte) (int, error) {
	if len(f.data) == 0 {
		return 0, f.err
	}
	n := copy(p, f.data)
	f.data = f.data[n:]
	return n, nil
}

func testTruncatedReader(t *testing.T, s blob.Store) {
	full := bytes.Repeat([]byte("x"), 100000)
	errBroken := errors.New("connection reset by peer")
	_, _, err := s.Put(context.Background(), &failingReader{data: full[:40000], err: errBroken})
	if !errors.Is(err, errBroken) {
		t.Fatalf("Put of a failing reader error = %v, want it to wrap %v", err, errBroken)
	}
	_, err = s.PutVerified(context.Background(), blob.FromBytes(full), &failingReader{data: full[:40000], err: errBroken})
	if !errors.Is(err, errBroken) {
		t.Fatalf("PutVerified of a failing reader error = %v, want it to wrap %v", err, errBroken)
	}
	assertMissing(t, s, blob.FromBytes(full), blob.FromBytes(full[:40000]))
}

// cancelingReader cancels its context after the first read.
type cancelingReader struct {
	r      io.Reader
	cancel context.CancelFunc
}

func (c *cancelingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.cancel()
	return n, err
}

func testContextCanceled(t *testing.T, s blob.Store) {
	data := bytes.Repeat([]byte("y"), 1<<20)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := s.Put(ctx, bytes.NewReader(data)); !errors.Is(err, context.Canceled) {
		t.Errorf("Put with a canceled context error = %v, want context.Canceled", err)
	}
	ctx, cancel = context.WithCancel(context.Background())
	_, _, err := s.Put(ctx, &cancelingReader{r: bytes.NewReader(data), cancel: cancel})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Put canceled midway error = %v, want context.Canceled", err)
	}
	assertMissing(t, s, blob.FromBytes(data))

	d := put(t, s, data)
	ctx, cancel = context.WithCancel(context.Background())
	cancel()
	if rc, err := s.Open(ctx, d); err == nil {
		_, err = io.ReadAll(rc)
		rc.Close()
		if !errors.Is(err, context.Canceled) {
			t.Errorf("reading with a canceled context error = %v, want context.Canceled", err)
		}
	} else if !errors.Is(err, context.Canceled) {
		t.Errorf("Open with a canceled context error = %v, want context.Canceled", err)
	}
}

func testVerify(t *testing.T, s blob.Store) {
	d := put(t, s, []byte("intact"))
	if err := s.Verify(context.Background(), d); err != nil {
		t.Fatalf("Verify(intact) = %v", err)
	}
}
