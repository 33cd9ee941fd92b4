package audit

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/hex"
	"fmt"

	"github.com/dockyard/dockyard/internal/store"
)

// Result is the outcome of a successful verification.
type Result struct {
	Events      int64 `json:"events"`
	Checkpoints int   `json:"checkpoints"`
	// KeyFromFile is true when VerifyFile trusted the key in the export
	// itself (no key given): that proves integrity against accidents, not
	// against someone who re-signed the file.
	KeyFromFile bool `json:"key_from_file,omitempty"`
}

// String is "ok: N events".
func (r Result) String() string { return fmt.Sprintf("ok: %d events", r.Events) }

// VerifyError names the first bad event (Seq) or checkpoint and what is
// wrong with it.
type VerifyError struct {
	Seq    int64 // the first bad event; 0 when the problem is a checkpoint or the file
	Reason string
}

func (e *VerifyError) Error() string {
	if e.Seq > 0 {
		return fmt.Sprintf("audit chain broken at event seq %d: %s", e.Seq, e.Reason)
	}
	return "audit chain broken: " + e.Reason
}

// verifier walks a chain in order and then its checkpoints.
type verifier struct {
	pub    ed25519.PublicKey
	n      int64
	prev   string
	hashes [][32]byte // hashes[i] is the hash of seq i+1
}

func newVerifier(pub ed25519.PublicKey) *verifier {
	return &verifier{pub: pub, prev: GenesisHash}
}

func (v *verifier) hashOf(seq int64) string {
	if seq == 0 {
		return GenesisHash
	}
	return hex.EncodeToString(v.hashes[seq-1][:])
}

// add checks the next link: its place, its content against its hash, and
// its link to the one before. It returns the decoded event.
func (v *verifier) add(seq int64, prevHash, hash string, body []byte) (chained, *VerifyError) {
	want := v.n + 1
	bad := func(s int64, f string, a ...any) (chained, *VerifyError) {
		return chained{}, &VerifyError{Seq: s, Reason: fmt.Sprintf(f, a...)}
	}
	if seq > want {
		return bad(want, "missing: the next event is seq %d (event %d deleted, or events reordered)", seq, want)
	}
	if seq < want {
		if seq >= 1 && prevHash == v.hashOf(seq-1) {
			return bad(seq, "inserted: another event took seq %d's place and the original follows it", seq)
		}
		return bad(seq, "out of order: it follows seq %d (duplicated, inserted or reordered)", v.n)
	}
	canon, err := canonical(body)
	if err != nil {
		return bad(seq, "its content is not valid JSON (edited): %v", err)
	}
	c, err := decodeBody(canon)
	if err != nil {
		return bad(seq, "its content is not an audit event (edited): %v", err)
	}
	if c.Seq != seq {
		if c.Seq > seq {
			return bad(seq, "it holds the content of event %d (events reordered)", c.Seq)
		}
		if c.Seq >= 1 && prevHash == v.hashOf(c.Seq-1) {
			return bad(c.Seq, "inserted: the event stored as seq %d..%d is not part of the chain; the original seq %d was moved to %d", c.Seq, seq-1, c.Seq, seq)
		}
		return bad(seq, "it holds the content of event %d (events reordered or inserted)", c.Seq)
	}
	if linkHash(prevHash, canon) != hash {
		return bad(seq, "its content does not match its hash (edited, or its previous-hash field was rewritten to cover a change to event %d)", seq-1)
	}
	if prevHash != v.prev {
		return bad(seq, "its previous-hash link does not match event %d's hash (event %d was replaced, or an event was inserted or deleted)", seq-1, seq-1)
	}
	var h [32]byte
	if _, err := hex.Decode(h[:], []byte(hash)); err != nil {
		return bad(seq, "its hash is not hex (edited)")
	}
	v.n, v.prev = seq, hash
	v.hashes = append(v.hashes, h)
	return c, nil
}

// checkpoints checks every checkpoint's signature and that the chain
// still holds the head it signed.
func (v *verifier) checkpoints(cps []store.AuditCheckpoint) *VerifyError {
	var lastGood int64
	for _, cp := range cps {
		sig, err := base64.StdEncoding.DecodeString(cp.Signature)
		if err != nil || !ed25519.Verify(v.pub, checkpointMessage(cp.Count, cp.Head, cp.Time), sig) {
			return &VerifyError{Reason: fmt.Sprintf("checkpoint of %d events at %s: the signature does not verify with the public key (forged checkpoint, or a different key)",
				cp.Count, cp.Time.Format("2006-01-02T15:04:05Z07:00"))}
		}
		if cp.Count > v.n {
			return &VerifyError{Seq: v.n + 1, Reason: fmt.Sprintf("deleted: a signed checkpoint covers %d events but the chain ends at seq %d", cp.Count, v.n)}
		}
		if cp.Count > 0 && v.hashOf(cp.Count) != cp.Head {
			return &VerifyError{Seq: lastGood + 1, Reason: fmt.Sprintf("rewritten: events %d..%d no longer match the checkpoint signed at %s (the first change is in that range)",
				lastGood+1, cp.Count, cp.Time.Format("2006-01-02T15:04:05Z07:00"))}
		}
		lastGood = max(lastGood, cp.Count)
	}
	return nil
}

// Verify walks the stored chain and its checkpoints, and checks each
// event's searchable copy in _internal against the chain.
func (l *Log) Verify(ctx context.Context) (Result, error) {
	cps, err := l.st.ListAuditCheckpoints(ctx)
	if err != nil {
		return Result{}, err
	}
	v := newVerifier(l.pub)
	for rec, err := range l.st.AuditRecords(ctx, 1) {
		if err != nil {
			return Result{}, err
		}
		c, verr := v.add(rec.Seq, rec.PrevHash, rec.Hash, []byte(rec.Body))
		if verr != nil {
			return Result{}, verr
		}
		switch want := FormatLine(c.Seq, c.Event); {
		case rec.IndexedRaw == "":
			return Result{}, &VerifyError{Seq: rec.Seq, Reason: "its searchable copy in index _internal was deleted"}
		case rec.IndexedRaw != want:
			return Result{}, &VerifyError{Seq: rec.Seq, Reason: "its searchable copy in index _internal differs from the chain (edited)"}
		}
	}
	if verr := v.checkpoints(cps); verr != nil {
		return Result{}, verr
	}
	return Result{Events: v.n, Checkpoints: len(cps)}, nil
}
