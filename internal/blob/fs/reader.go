package fs

import (
	"context"
	"crypto/subtle"
	"fmt"
	"hash"
	"io"
	"os"

	"github.com/dockyard/dockyard/internal/blob"
)

// ctxReader fails reads once ctx is done, so a long copy stops promptly.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c *ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// verifyingReader hashes a stored blob as it is read. It checks the digest
// when it has read as many bytes as the file held at Open and again at EOF,
// so a corrupt blob never ends cleanly: the last Read returns an error that
// wraps blob.ErrCorrupt, whether the caller reads to EOF or stops after
// exactly the blob's size (io.ReadFull). The Read that detects corruption
// returns no bytes, so callers that drop an error arriving with the final
// bytes (io.ReadAtLeast does) still see it.
type verifyingReader struct {
	ctx  context.Context
	f    *os.File
	d    blob.Digest
	size int64 // size at Open
	h    hash.Hash
	n    int64
	err  error // sticky final error
}

func (v *verifyingReader) Read(p []byte) (int, error) {
	if v.err != nil {
		return 0, v.err
	}
	if err := v.ctx.Err(); err != nil {
		return 0, err
	}
	n, err := v.f.Read(p)
	v.h.Write(p[:n])
	v.n += int64(n)
	switch {
	case err == io.EOF:
		v.err = v.check(io.EOF)
		if v.err != io.EOF {
			return 0, v.err
		}
		return n, v.err
	case err != nil:
		return n, fmt.Errorf("blob %s: read: %w", v.d, err)
	case v.n == v.size:
		// Verify now, so a caller that reads exactly size bytes still sees
		// corruption. A clean result is not sticky: the next Read finds EOF
		// (or more bytes, which then fail the check at EOF).
		if cerr := v.check(nil); cerr != nil {
			v.err = cerr
			return 0, cerr
		}
	case v.n > v.size:
		v.err = corrupt(v.d, fmt.Sprintf("it grew to more than the %d bytes it had when opened", v.size))
		return 0, v.err
	}
	return n, nil
}

// check compares the hash so far with the digest and returns ok if it
// matches, else an error wrapping blob.ErrCorrupt.
func (v *verifyingReader) check(ok error) error {
	want := v.d.Hex()
	got := fmt.Sprintf("%x", v.h.Sum(nil))
	if subtle.ConstantTimeCompare([]byte(want), []byte(got)) == 1 && v.n == v.size {
		return ok
	}
	return corrupt(v.d, fmt.Sprintf("read %d bytes (the file had %d) hashing to sha256:%s", v.n, v.size, got))
}

func (v *verifyingReader) Close() error { return v.f.Close() }

func corrupt(d blob.Digest, detail string) error {
	return fmt.Errorf("blob %s: %s; restore it from a backup or upload it again: %w", d, detail, blob.ErrCorrupt)
}
