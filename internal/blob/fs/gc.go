package fs

import (
	"context"
	"errors"
	"fmt"
	iofs "io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/dockyard/dockyard/internal/blob"
)

// List calls fn for every stored blob. Files under the blob directory
// whose names are not digests (none are written there) are skipped.
func (s *Store) List(ctx context.Context, fn func(blob.Info) error) error {
	dirs, err := os.ReadDir(s.blobDir())
	if err != nil {
		return fmt.Errorf("blob store: list %s: %w", s.blobDir(), err)
	}
	for _, dir := range dirs {
		if !dir.IsDir() || len(dir.Name()) != 2 {
			continue
		}
		sub := filepath.Join(s.blobDir(), dir.Name())
		entries, err := os.ReadDir(sub)
		if err != nil {
			return fmt.Errorf("blob store: list %s: %w", sub, err)
		}
		for _, e := range entries {
			if err := ctx.Err(); err != nil {
				return err
			}
			d, err := blob.ParseDigest("sha256:" + e.Name())
			if err != nil || !e.Type().IsRegular() {
				continue
			}
			info, err := e.Info()
			if errors.Is(err, iofs.ErrNotExist) {
				continue // deleted since ReadDir
			}
			if err != nil {
				return fmt.Errorf("blob %s: stat: %w", d, err)
			}
			if err := fn(blob.Info{Digest: d, Size: info.Size(), Used: info.ModTime()}); err != nil {
				return err
			}
		}
	}
	return nil
}

// DeleteUnused removes d unless its file was written or touched at or
// after cutoff. It holds the store's lock between the check and the
// removal, so a concurrent Put or Stat of d either comes first (and the
// blob is kept) or finds it gone (and stores it again).
func (s *Store) DeleteUnused(ctx context.Context, d blob.Digest, cutoff time.Time) (bool, int64, error) {
	if _, err := blob.ParseDigest(string(d)); err != nil {
		return false, 0, err
	}
	if err := ctx.Err(); err != nil {
		return false, 0, err
	}
	p := s.path(d)
	s.mu.Lock()
	defer s.mu.Unlock()
	info, err := os.Stat(p)
	if errors.Is(err, iofs.ErrNotExist) {
		return false, 0, nil
	}
	if err != nil {
		return false, 0, fmt.Errorf("blob %s: stat: %w", d, err)
	}
	if !info.ModTime().Before(cutoff) {
		return false, 0, nil
	}
	if err := os.Remove(p); err != nil {
		if errors.Is(err, iofs.ErrNotExist) {
			return false, 0, nil
		}
		return false, 0, fmt.Errorf("blob %s: delete: %w", d, err)
	}
	return true, info.Size(), syncDir(filepath.Dir(p))
}
