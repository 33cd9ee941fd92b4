// Package fs stores content-addressed blobs as files under a root directory,
// laid out as root/sha256/ab/abcdef... (the first two hex digits name a
// subdirectory). Writes go to a temporary file on the same filesystem, are
// hashed while written, fsynced, renamed into place and made durable by
// fsyncing the directory, so a blob is either fully present or absent.
// Reads verify the digest as they go.
//
// Each Store writes its temporary files in a directory of its own under
// root/tmp, locked while the Store lives; New removes the directories of
// stores whose process has gone (a crash or a kill), so that no partial
// upload outlives a restart. A blob's modification time is when it was
// last written or found by Stat or Missing: DeleteUnused (garbage
// collection) keeps blobs touched since its cutoff.
package fs

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	iofs "io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/dockyard/dockyard/internal/blob"
	"github.com/dockyard/dockyard/internal/errdefs"
)

// Store is a blob.Store on the local filesystem. It is safe for concurrent
// use, also by several processes sharing the same root (garbage collection
// excepted: run it in the one server that owns the root).
type Store struct {
	root string
	tmp  string   // this store's own directory of temporary files
	lock *os.File // held while the store lives; marks tmp as in use

	// mu orders DeleteUnused against the renames of Put and the touches
	// of Stat, so that a blob written or checked during a collection is
	// never removed.
	mu sync.Mutex
}

var _ blob.Store = (*Store)(nil)

// New opens (creating if needed) a store rooted at dir.
func New(dir string) (*Store, error) {
	if dir == "" {
		return nil, errdefs.Invalid("blob store: empty root directory; set the data directory")
	}
	s := &Store{root: dir}
	for _, d := range []string{s.blobDir(), s.tmpDir()} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, fmt.Errorf("blob store: create %s: %w (check the data directory's permissions)", d, err)
		}
	}
	s.removeStaleTemps()
	if err := s.openTempDir(); err != nil {
		return nil, err
	}
	return s, nil
}

// Close releases the store's temporary directory. Using the store after
// Close fails.
func (s *Store) Close() error {
	if s.lock == nil {
		return nil
	}
	err := os.RemoveAll(s.tmp)
	s.lock.Close()
	s.lock = nil
	return err
}

// Root returns the directory the store lives in.
func (s *Store) Root() string { return s.root }

func (s *Store) blobDir() string { return filepath.Join(s.root, "sha256") }
func (s *Store) tmpDir() string  { return filepath.Join(s.root, "tmp") }

// path returns where the blob d lives. d must be a valid digest.
func (s *Store) path(d blob.Digest) string {
	h := d.Hex()
	return filepath.Join(s.blobDir(), h[:2], h)
}

// Put stores the bytes of r and returns their digest and size.
func (s *Store) Put(ctx context.Context, r io.Reader) (blob.Digest, int64, error) {
	return s.put(ctx, "", r)
}

// PutVerified stores r if its digest is want; otherwise it keeps nothing and
// fails with errdefs.ErrInvalid.
func (s *Store) PutVerified(ctx context.Context, want blob.Digest, r io.Reader) (int64, error) {
	if _, err := blob.ParseDigest(string(want)); err != nil {
		return 0, err
	}
	_, n, err := s.put(ctx, want, r)
	return n, err
}

func (s *Store) put(ctx context.Context, want blob.Digest, r io.Reader) (d blob.Digest, n int64, err error) {
	if err := ctx.Err(); err != nil {
		return "", 0, err
	}
	tmp, err := os.CreateTemp(s.tmp, "put-*")
	if err != nil {
		return "", 0, fmt.Errorf("blob store: create temporary file in %s: %w", s.tmp, err)
	}
	tmpName := tmp.Name()
	renamed := false
	defer func() {
		if !renamed {
			_ = tmp.Close()
			_ = os.Remove(tmpName)
		}
	}()

	h := sha256.New()
	n, err = io.Copy(io.MultiWriter(tmp, h), &ctxReader{ctx: ctx, r: r})
	if err != nil {
		return "", 0, fmt.Errorf("blob store: write blob: %w", err)
	}
	d = blob.Digest("sha256:" + hex.EncodeToString(h.Sum(nil)))
	if want != "" && d != want {
		return "", 0, errdefs.Invalidf(
			"blob digest mismatch: expected %s, got %s (%d bytes): the upload was incomplete or corrupted; send it again", want, d, n)
	}
	if err := tmp.Sync(); err != nil {
		return "", 0, fmt.Errorf("blob store: sync %s: %w", tmpName, err)
	}
	if err := tmp.Close(); err != nil {
		return "", 0, fmt.Errorf("blob store: close %s: %w", tmpName, err)
	}
	if err := ctx.Err(); err != nil {
		return "", 0, err
	}

	dst := s.path(d)
	dir := filepath.Dir(dst)
	created, err := mkdir(dir)
	if err != nil {
		return "", 0, fmt.Errorf("blob store: create %s: %w", dir, err)
	}
	// Renaming over an existing copy is atomic and replaces a copy that may
	// have been corrupted with one we have just verified. The new file's
	// modification time marks the blob as used now.
	s.mu.Lock()
	_, statErr := os.Lstat(dst)
	err = os.Rename(tmpName, dst)
	if err == nil {
		// The kernel's clock for file times is coarse: set it exactly.
		now := time.Now()
		if err = os.Chtimes(dst, now, now); err == nil && errors.Is(statErr, iofs.ErrNotExist) {
			blob.NoteCreated(ctx, d, now)
		}
	}
	s.mu.Unlock()
	if err != nil {
		return "", 0, fmt.Errorf("blob store: move blob into place at %s: %w", dst, err)
	}
	renamed = true
	if err := syncDir(dir); err != nil {
		return "", 0, err
	}
	if created {
		if err := syncDir(s.blobDir()); err != nil {
			return "", 0, err
		}
	}
	return d, n, nil
}

// mkdir creates dir if it does not exist and reports whether it did.
func mkdir(dir string) (bool, error) {
	err := os.Mkdir(dir, 0o700)
	if err == nil {
		return true, nil
	}
	if errors.Is(err, iofs.ErrExist) {
		return false, nil
	}
	return false, err
}

func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("blob store: open directory %s to sync it: %w", dir, err)
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("blob store: sync directory %s: %w", dir, err)
	}
	return nil
}

// Open returns a reader of the blob's bytes that verifies them as it reads.
func (s *Store) Open(ctx context.Context, d blob.Digest) (io.ReadCloser, error) {
	if _, err := blob.ParseDigest(string(d)); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f, err := os.Open(s.path(d))
	if err != nil {
		if errors.Is(err, iofs.ErrNotExist) {
			return nil, notFound(d)
		}
		return nil, fmt.Errorf("blob %s: open: %w", d, err)
	}
	info, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("blob %s: stat: %w", d, err)
	}
	return &verifyingReader{ctx: ctx, f: f, d: d, size: info.Size(), h: sha256.New()}, nil
}

// Stat returns the size of a stored blob.
func (s *Store) Stat(ctx context.Context, d blob.Digest) (int64, error) {
	if _, err := blob.ParseDigest(string(d)); err != nil {
		return 0, err
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	p := s.path(d)
	s.mu.Lock()
	defer s.mu.Unlock()
	info, err := os.Stat(p)
	if err != nil {
		if errors.Is(err, iofs.ErrNotExist) {
			return 0, notFound(d)
		}
		return 0, fmt.Errorf("blob %s: stat: %w", d, err)
	}
	// Mark the blob as used, so that a collection running now keeps it for
	// the writer that is about to reference it.
	now := time.Now()
	if err := os.Chtimes(p, now, now); err != nil {
		return 0, fmt.Errorf("blob %s: mark as used: %w", d, err)
	}
	return info.Size(), nil
}

// Missing returns those of ds that are not stored, in the order given.
func (s *Store) Missing(ctx context.Context, ds []blob.Digest) ([]blob.Digest, error) {
	var missing []blob.Digest
	for _, d := range ds {
		_, err := s.Stat(ctx, d)
		switch {
		case err == nil:
		case errdefs.IsNotFound(err):
			missing = append(missing, d)
		default:
			return nil, err
		}
	}
	return missing, nil
}

// Delete removes a blob; deleting a missing blob is not an error.
func (s *Store) Delete(ctx context.Context, d blob.Digest) error {
	if _, err := blob.ParseDigest(string(d)); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	p := s.path(d)
	if err := os.Remove(p); err != nil {
		if errors.Is(err, iofs.ErrNotExist) {
			return nil
		}
		return fmt.Errorf("blob %s: delete: %w", d, err)
	}
	return syncDir(filepath.Dir(p))
}

// Verify re-reads a blob and reports blob.ErrCorrupt if it no longer matches
// its digest.
func (s *Store) Verify(ctx context.Context, d blob.Digest) error {
	rc, err := s.Open(ctx, d)
	if err != nil {
		return err
	}
	defer rc.Close()
	_, err = io.Copy(io.Discard, rc)
	return err
}

func notFound(d blob.Digest) error {
	return errdefs.NotFoundf("blob %s not found", d)
}
