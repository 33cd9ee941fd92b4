//go:build !unix

package fs

import (
	"os"
	"time"
)

// staleAge is how old a temporary directory's lock file must be, where
// advisory locks are not available, before the directory is taken for a
// dead store's.
const staleAge = 24 * time.Hour

func lock(*os.File) error { return nil }

// unowned cannot tell a live store from a dead one without advisory locks:
// it goes by age.
func unowned(f *os.File) bool {
	info, err := f.Stat()
	return err == nil && time.Since(info.ModTime()) > staleAge
}
