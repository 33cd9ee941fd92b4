package api

import (
	"errors"
	"net/http"
	"syscall"
)

// sqliteFull is SQLite's result code for a full disk (SQLITE_FULL).
const sqliteFull = 13

// diskFull reports whether err comes from a full disk: the filesystem's
// ENOSPC (blob store, spool files) or SQLite's SQLITE_FULL.
func diskFull(err error) bool {
	if errors.Is(err, syscall.ENOSPC) {
		return true
	}
	var coded interface{ Code() int }
	return errors.As(err, &coded) && coded.Code()&0xff == sqliteFull
}

// diskFullMessage is the answer to a request that failed on a full disk.
// What was being written is not kept: stores write all or nothing.
func diskFullMessage(r *http.Request) string {
	return "the server's disk is full, so this change was not made; ask an administrator to free space " +
		"in the data directory (see docs/operations.md), then try again; request id " + RequestID(r.Context())
}
