package sqlite

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"encoding/hex"
	"fmt"

	"github.com/dockyard/dockyard/internal/errdefs"
)

// ErrEventCorrupt marks an event whose stored content no longer matches
// its stored hash. It is of kind errdefs.ErrUnavailable, like a corrupt
// blob: the event exists but cannot be served.
var ErrEventCorrupt = errdefs.Unavailable("event is corrupt: its content does not match its stored hash")

// eventHash is the hex SHA-256 of an event's stored columns, each
// length-prefixed so that no two events hash alike by moving bytes between
// columns.
func eventHash(idx string, timeNS int64, host, source, sourcetype, raw, fields string) string {
	h := sha256.New()
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(timeNS))
	h.Write(n[:])
	for _, s := range []string{idx, host, source, sourcetype, raw, fields} {
		binary.BigEndian.PutUint64(n[:], uint64(len(s)))
		h.Write(n[:])
		h.Write([]byte(s))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// checkEventHash compares a row read back with its stored hash; "" (an
// event stored before hashes were kept) passes.
func checkEventHash(id int64, idx string, timeNS int64, host, source, sourcetype, raw, fields, stored string) error {
	if stored == "" {
		return nil
	}
	got := eventHash(idx, timeNS, host, source, sourcetype, raw, fields)
	if subtle.ConstantTimeCompare([]byte(got), []byte(stored)) == 1 {
		return nil
	}
	return fmt.Errorf("event %d in index %q was changed or damaged on disk (its content hashes to %s, the stored hash is %s); "+
		"restore the database from a backup with `dockyard admin restore`: %w", id, idx, got, stored, ErrEventCorrupt)
}
