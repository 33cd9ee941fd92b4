package audit

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/dockyard/dockyard/internal/store"
)

// CheckpointLine is one line of the external checkpoints file (and the
// event forwarded to an HTTP Event Collector): a signed statement that the
// chain held Seq events ending in Head, keyed from KeyedFrom.
type CheckpointLine struct {
	Seq       int64     `json:"seq"`
	Head      string    `json:"head"`
	KeyedFrom int64     `json:"keyed_from,omitempty"`
	Time      time.Time `json:"time"`
	KeyID     string    `json:"key_id"`
	Signature string    `json:"signature"`
}

func lineOf(cp store.AuditCheckpoint) CheckpointLine {
	return CheckpointLine{Seq: cp.Count, Head: cp.Head, KeyedFrom: cp.KeyedFrom, Time: cp.Time.UTC(), KeyID: cp.KeyID, Signature: cp.Signature}
}

func (c CheckpointLine) checkpoint() store.AuditCheckpoint {
	return store.AuditCheckpoint{Count: c.Seq, Head: c.Head, KeyedFrom: c.KeyedFrom, Time: c.Time, KeyID: c.KeyID, Signature: c.Signature}
}

// checkpointMessage is the signed statement of a checkpoint: version 1
// (count, head, time) for checkpoints of an unkeyed chain, version 2 (with
// keyed_from) for a keyed one, so that keyed_from cannot be changed or
// dropped without breaking the signature.
func checkpointMessage(cp store.AuditCheckpoint) []byte {
	t := cp.Time.UTC().Format(time.RFC3339Nano)
	if cp.KeyedFrom == 0 {
		b, _ := json.Marshal(struct {
			Count int64  `json:"count"`
			Head  string `json:"head"`
			Time  string `json:"time"`
		}{cp.Count, cp.Head, t})
		return append([]byte("dockyard-audit-checkpoint-v1\n"), b...)
	}
	b, _ := json.Marshal(struct {
		Count     int64  `json:"count"`
		Head      string `json:"head"`
		KeyedFrom int64  `json:"keyed_from"`
		Time      string `json:"time"`
	}{cp.Count, cp.Head, cp.KeyedFrom, t})
	return append([]byte("dockyard-audit-checkpoint-v2\n"), b...)
}

// signatureOK reports whether cp's signature verifies with pub.
func signatureOK(pub ed25519.PublicKey, cp store.AuditCheckpoint) bool {
	sig, err := base64.StdEncoding.DecodeString(cp.Signature)
	return err == nil && ed25519.Verify(pub, checkpointMessage(cp), sig)
}

// ReadCheckpoints reads an external checkpoints file's lines, oldest first.
func ReadCheckpoints(r io.Reader) ([]store.AuditCheckpoint, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 4096), 1<<20)
	var out []store.AuditCheckpoint
	for n := 1; sc.Scan(); n++ {
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		var c CheckpointLine
		if err := json.Unmarshal(b, &c); err != nil || c.Signature == "" {
			return nil, &VerifyError{Reason: fmt.Sprintf("checkpoints file line %d is not a checkpoint (the file was damaged or edited)", n)}
		}
		out = append(out, c.checkpoint())
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("audit checkpoints: %w", err)
	}
	return out, nil
}

// ReadCheckpointsFile reads the external checkpoints file at path. A
// missing file is an error that matches fs.ErrNotExist.
func ReadCheckpointsFile(path string) ([]store.AuditCheckpoint, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("audit checkpoints file: %w", err)
	}
	defer f.Close()
	cps, err := ReadCheckpoints(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return cps, nil
}

// appendCheckpoints appends cps to the file at path (created 0600), one
// JSON line each, and syncs it before returning.
func appendCheckpoints(path string, cps ...store.AuditCheckpoint) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("audit checkpoints file: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("audit checkpoints file: %w", err)
	}
	var buf bytes.Buffer
	for _, cp := range cps {
		b, _ := json.Marshal(lineOf(cp))
		buf.Write(b)
		buf.WriteByte('\n')
	}
	if _, err := f.Write(buf.Bytes()); err != nil {
		f.Close()
		return fmt.Errorf("audit checkpoints file %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("audit checkpoints file %s: %w", path, err)
	}
	return f.Close()
}

// openCheckpointsFile reads the external file, creating it from the
// database's checkpoints when it does not exist yet (the first start after
// an upgrade, or a new data dir). A last line cut short by a crash during
// its write (no newline, not a checkpoint) is removed, and said so in the
// log; a complete last line without its newline gets one.
//
// Validly signed checkpoints of the database that the file lacks (a crash
// between the two writes of a checkpoint) are appended to it.
func openCheckpointsFile(path string, db []store.AuditCheckpoint, pub ed25519.PublicKey, log *slog.Logger) ([]store.AuditCheckpoint, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		if err := appendCheckpoints(path, db...); err != nil {
			return nil, err
		}
		return append([]store.AuditCheckpoint(nil), db...), nil
	}
	if err != nil {
		return nil, fmt.Errorf("audit checkpoints file: %w", err)
	}
	if len(b) > 0 && b[len(b)-1] != '\n' {
		cut := bytes.LastIndexByte(b, '\n') + 1
		var c CheckpointLine
		if json.Unmarshal(b[cut:], &c) == nil && c.Signature != "" {
			err = appendRaw(path, []byte("\n"))
		} else {
			log.Warn("audit checkpoints file: removing a last line cut short by a crash", "path", path, "bytes", len(b)-cut)
			err = os.Truncate(path, int64(cut))
		}
		if err != nil {
			return nil, fmt.Errorf("audit checkpoints file %s: %w", path, err)
		}
	}
	file, err := ReadCheckpointsFile(path)
	if err != nil {
		return nil, err
	}
	var missing []store.AuditCheckpoint
	for _, cp := range db {
		if signatureOK(pub, cp) && !containsCheckpoint(file, cp) {
			missing = append(missing, cp)
		}
	}
	if len(missing) > 0 {
		log.Warn("audit checkpoints file: appending signed checkpoints only the database had (a crash between their two writes)", "count", len(missing))
		if err := appendCheckpoints(path, missing...); err != nil {
			return nil, err
		}
		file = append(file, missing...)
	}
	return file, nil
}

func appendRaw(path string, b []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// sameCheckpoint reports whether a and b are the same signed statement.
func sameCheckpoint(a, b store.AuditCheckpoint) bool {
	return a.Signature == b.Signature && a.Count == b.Count && a.Head == b.Head && a.KeyedFrom == b.KeyedFrom && a.Time.Equal(b.Time)
}

// mergeCheckpoints returns the checkpoints of a and b, each once, a's
// order first.
func mergeCheckpoints(a, b []store.AuditCheckpoint) []store.AuditCheckpoint {
	out := append([]store.AuditCheckpoint(nil), a...)
	for _, cb := range b {
		if !containsCheckpoint(a, cb) {
			out = append(out, cb)
		}
	}
	return out
}

func containsCheckpoint(cps []store.AuditCheckpoint, cp store.AuditCheckpoint) bool {
	for _, c := range cps {
		if sameCheckpoint(c, cp) {
			return true
		}
	}
	return false
}

// latestCheckpoint is the checkpoint with the highest count (the newest
// among equals); ok is false when there is none.
func latestCheckpoint(cps []store.AuditCheckpoint) (store.AuditCheckpoint, bool) {
	var best store.AuditCheckpoint
	for i, cp := range cps {
		if i == 0 || cp.Count > best.Count || cp.Count == best.Count && cp.Time.After(best.Time) {
			best = cp
		}
	}
	return best, len(cps) > 0
}

func cpTime(cp store.AuditCheckpoint) string { return cp.Time.UTC().Format(time.RFC3339) }
