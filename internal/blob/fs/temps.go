package fs

import (
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// lockName is the file in each store's temporary directory that the store
// keeps locked while it lives.
const lockName = ".lock"

// youngTempAge protects a temporary directory that another store is still
// setting up (created, not yet locked) from removal.
const youngTempAge = time.Minute

// openTempDir creates the store's own temporary directory under tmp and
// locks it.
func (s *Store) openTempDir() error {
	dir, err := os.MkdirTemp(s.tmpDir(), "store-")
	if err != nil {
		return fmt.Errorf("blob store: create a temporary directory in %s: %w", s.tmpDir(), err)
	}
	f, err := os.OpenFile(filepath.Join(dir, lockName), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		os.RemoveAll(dir)
		return fmt.Errorf("blob store: %w", err)
	}
	if err := lock(f); err != nil {
		f.Close()
		os.RemoveAll(dir)
		return fmt.Errorf("blob store: lock %s: %w", f.Name(), err)
	}
	s.tmp, s.lock = dir, f
	return nil
}

// removeStaleTemps removes what crashed or killed processes left in tmp:
// the directories of stores whose lock nobody holds any more, and loose
// files (the temporaries of older versions, which wrote directly in tmp).
func (s *Store) removeStaleTemps() {
	entries, err := os.ReadDir(s.tmpDir())
	if err != nil {
		return
	}
	for _, e := range entries {
		p := filepath.Join(s.tmpDir(), e.Name())
		if !e.IsDir() {
			os.Remove(p)
			continue
		}
		f, err := os.OpenFile(filepath.Join(p, lockName), os.O_RDWR, 0)
		if err != nil {
			if info, ierr := e.Info(); ierr == nil && time.Since(info.ModTime()) > youngTempAge {
				os.RemoveAll(p)
			}
			continue
		}
		if unowned(f) {
			// Nobody holds it: its store is gone.
			os.RemoveAll(p)
		}
		f.Close()
	}
}

// InUse reports whether a live store (in this process or another) has the
// blob store rooted at root open.
func InUse(root string) bool {
	entries, err := os.ReadDir(filepath.Join(root, "tmp"))
	if err != nil {
		return false
	}
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		f, err := os.OpenFile(filepath.Join(root, "tmp", e.Name(), lockName), os.O_RDWR, 0)
		if err != nil {
			continue
		}
		free := unowned(f)
		f.Close()
		if !free {
			return true
		}
	}
	return false
}
