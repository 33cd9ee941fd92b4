//go:build unix

package fs

import (
	"os"
	"syscall"
)

// lock takes an exclusive advisory lock on f without waiting. It lasts
// until f is closed or the process ends, however it ends.
func lock(f *os.File) error {
	return syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
}

// unowned reports whether no live process holds the lock on f (taking it,
// until f is closed, if so). Any failure counts as owned.
func unowned(f *os.File) bool { return lock(f) == nil }
