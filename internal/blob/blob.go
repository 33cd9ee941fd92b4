// Package blob defines Dockyard's content-addressed blob store: files named
// by the SHA-256 of their bytes, verified on write and on read. fs/ is the
// filesystem implementation; blobtest/ is the conformance suite every
// implementation runs.
package blob

import (
	"context"
	"io"
	"time"

	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/transfer"
)

// Digest names a blob: "sha256:" followed by 64 lowercase hex digits. It
// is the digest of the model archive format (transfer.Digest).
type Digest = transfer.Digest

// ParseDigest validates s as a digest.
func ParseDigest(s string) (Digest, error) { return transfer.ParseDigest(s) }

// FromBytes returns the digest of b.
func FromBytes(b []byte) Digest { return transfer.FromBytes(b) }

// ErrCorrupt marks a blob whose bytes no longer match its digest. It is of
// kind errdefs.ErrUnavailable: the data exists but cannot be served.
var ErrCorrupt = errdefs.Unavailable("blob is corrupt: its content does not match its digest")

// Store is a content-addressed blob store.
type Store interface {
	// Put stores the bytes of r and returns their digest and size. It is
	// idempotent: storing the same bytes twice keeps one copy. A blob it
	// creates (not stored before) is noted in ctx's Created record, if any
	// (TrackCreated); so is one PutVerified creates.
	Put(ctx context.Context, r io.Reader) (Digest, int64, error)
	// PutVerified stores r and fails with errdefs.ErrInvalid, keeping
	// nothing, if its digest is not want.
	PutVerified(ctx context.Context, want Digest, r io.Reader) (int64, error)
	// Open returns the blob's bytes. Reading verifies the digest: a corrupted
	// blob makes Read (at the latest at EOF) fail with an error that
	// errors.Is(err, ErrCorrupt), and no corrupt byte stream ends cleanly.
	Open(ctx context.Context, d Digest) (io.ReadCloser, error)
	// Stat returns the size of a stored blob, or errdefs.ErrNotFound. A
	// blob it finds counts as used now (see DeleteUnused): writers that
	// reference a blob already stored check it with Stat or Missing first.
	Stat(ctx context.Context, d Digest) (int64, error)
	// Missing returns those of ds that are not stored. The blobs it finds
	// count as used now, as with Stat.
	Missing(ctx context.Context, ds []Digest) ([]Digest, error)
	// Delete removes a blob; deleting a missing blob is not an error.
	Delete(ctx context.Context, d Digest) error
	// Verify re-reads a blob and reports ErrCorrupt if it no longer matches.
	Verify(ctx context.Context, d Digest) error
	// List calls fn for every stored blob, in no particular order. An
	// error from fn stops the listing and is returned.
	List(ctx context.Context, fn func(Info) error) error
	// DeleteUnused removes d unless it was written (Put, PutVerified) or
	// found (Stat, Missing) at or after cutoff, and reports whether it
	// removed it and the size it had. Garbage collection deletes through it, so that a blob a
	// writer has just stored or checked, but not yet referenced, survives.
	// The check and the removal are atomic with respect to those calls.
	DeleteUnused(ctx context.Context, d Digest, cutoff time.Time) (removed bool, size int64, err error)
}

// Info describes one stored blob.
type Info struct {
	Digest Digest
	Size   int64
	// Used is when the blob was last written, or found by Stat or Missing.
	Used time.Time
}
