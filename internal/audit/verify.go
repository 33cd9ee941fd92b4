package audit

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"fmt"

	"github.com/dockyard/dockyard/internal/store"
)

// Result is the outcome of a successful verification.
type Result struct {
	Events      int64 `json:"events"`
	Checkpoints int   `json:"checkpoints"`
	// KeyedFrom is the seq from which every link carries a MAC.
	KeyedFrom int64 `json:"keyed_from,omitempty"`
	// KeyFromFile is true when VerifyFile trusted the key in the export
	// itself (no key given): that proves integrity against accidents, not
	// against someone who re-signed the file.
	KeyFromFile bool `json:"key_from_file,omitempty"`
	// MACsChecked is false when VerifyFile had no chain key: the links'
	// MACs were not checked, only the signed checkpoints vouch for them.
	MACsChecked bool `json:"macs_checked"`
	// ExternalAhead is the count of the latest external checkpoint when it
	// goes beyond the export (the export is older than the checkpoints file).
	ExternalAhead int64 `json:"external_ahead,omitempty"`
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
	pub       ed25519.PublicKey
	key       []byte // the chain key; nil: MACs are not checked
	n         int64
	prev      string
	hashes    [][32]byte // hashes[i] is the hash of seq i+1
	keyedFrom int64      // the first link with a MAC (0: none so far)
}

func newVerifier(pub ed25519.PublicKey, key []byte) *verifier {
	return &verifier{pub: pub, key: key, prev: GenesisHash}
}

func (v *verifier) hashOf(seq int64) string {
	if seq == 0 {
		return GenesisHash
	}
	return hex.EncodeToString(v.hashes[seq-1][:])
}

// add checks the next link: its place, its content against its hash, its
// link to the one before, and its MAC. It returns the decoded event.
func (v *verifier) add(seq int64, prevHash, hash, mac string, body []byte) (chained, *VerifyError) {
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
	switch {
	case mac == "" && v.keyedFrom > 0:
		return bad(seq, "it has no MAC, but the chain is keyed from seq %d (appended or rewritten by someone without the chain key)", v.keyedFrom)
	case mac != "" && v.keyedFrom == 0 && seq != 1 && c.Action != AnchorAction:
		return bad(seq, "the chain's first MAC is on seq %d, which is not the %q anchor (links before it were stripped of their MACs)", seq, AnchorAction)
	case mac != "" && v.key != nil && !macOK(v.key, seq, hash, mac):
		return bad(seq, "its MAC does not verify with the chain key (rewritten with recomputed hashes, or forged, by someone without the key)")
	}
	if mac != "" && v.keyedFrom == 0 {
		v.keyedFrom = seq
	}
	var h [32]byte
	if _, err := hex.Decode(h[:], []byte(hash)); err != nil {
		return bad(seq, "its hash is not hex (edited)")
	}
	v.n, v.prev = seq, hash
	v.hashes = append(v.hashes, h)
	return c, nil
}

// checkpoints checks every checkpoint's signature and that the chain still
// holds the head each signed; then that the chain has a valid checkpoint
// and, when covered is set, that the latest one covers every event.
func (v *verifier) checkpoints(cps []store.AuditCheckpoint, covered bool) *VerifyError {
	var lastGood int64
	for _, cp := range cps {
		if !signatureOK(v.pub, cp) {
			return &VerifyError{Reason: fmt.Sprintf("checkpoint of %d events at %s: the signature does not verify with the public key (forged checkpoint, or a different key)",
				cp.Count, cpTime(cp))}
		}
	}
	latest, ok := latestCheckpoint(cps)
	if !ok {
		if v.n == 0 {
			return nil
		}
		return &VerifyError{Seq: 1, Reason: fmt.Sprintf("no valid checkpoint: none of the %d events is covered by a signed checkpoint (checkpoints deleted?)", v.n)}
	}
	if latest.Count > v.n {
		return &VerifyError{Seq: v.n + 1, Reason: fmt.Sprintf("deleted: the chain is shorter than the latest signed checkpoint, which covers %d events (signed at %s), but the chain ends at seq %d (truncated)",
			latest.Count, cpTime(latest), v.n)}
	}
	for _, cp := range cps {
		if cp.Count > 0 && v.hashOf(cp.Count) != cp.Head {
			return &VerifyError{Seq: lastGood + 1, Reason: fmt.Sprintf("rewritten: the chain diverges from the checkpoint of %d events signed at %s: events %d..%d no longer match it (the first change is in that range)",
				cp.Count, cpTime(cp), lastGood+1, cp.Count)}
		}
		lastGood = max(lastGood, cp.Count)
	}
	if latest.KeyedFrom > 0 && latest.KeyedFrom != v.keyedFrom {
		if v.keyedFrom == 0 {
			return &VerifyError{Seq: latest.KeyedFrom, Reason: fmt.Sprintf("the checkpoint signed at %s says the chain is keyed from seq %d, but no link carries a MAC (MACs stripped)", cpTime(latest), latest.KeyedFrom)}
		}
		return &VerifyError{Seq: min(latest.KeyedFrom, v.keyedFrom), Reason: fmt.Sprintf("the checkpoint signed at %s says the chain is keyed from seq %d, but its first MAC is on seq %d",
			cpTime(latest), latest.KeyedFrom, v.keyedFrom)}
	}
	if covered && latest.Count < v.n {
		return &VerifyError{Seq: latest.Count + 1, Reason: fmt.Sprintf("not covered: events %d..%d follow the latest signed checkpoint (appended after it: forged, or the export was edited)",
			latest.Count+1, v.n)}
	}
	return nil
}

// against checks an export's chain against external checkpoints: each must
// be signed; each within the export must match it; the latest within the
// export must agree on keyed_from; and the export's final checkpoint, when
// it has one, must be among them. It returns the count of the latest
// external checkpoint when that goes beyond the export.
func (v *verifier) against(ext []store.AuditCheckpoint, final *store.AuditCheckpoint) (int64, *VerifyError) {
	var within []store.AuditCheckpoint
	var ahead int64
	for _, cp := range ext {
		if !signatureOK(v.pub, cp) {
			return 0, &VerifyError{Reason: fmt.Sprintf("checkpoint of %d events at %s: the signature does not verify with the public key", cp.Count, cpTime(cp))}
		}
		if cp.Count <= v.n {
			within = append(within, cp)
		} else {
			ahead = max(ahead, cp.Count)
		}
	}
	if len(within) > 0 {
		if verr := v.checkpoints(within, false); verr != nil {
			return 0, verr
		}
	}
	if final != nil && !containsCheckpoint(ext, *final) {
		return 0, &VerifyError{Reason: fmt.Sprintf("the export's own checkpoint (seq %d, signed at %s) is not among the external checkpoints (a different server, or checkpoints that were not forwarded)",
			final.Count, cpTime(*final))}
	}
	return ahead, nil
}

// crossCheck compares the external checkpoints file with the database's
// checkpoints: the server writes every checkpoint to both.
func crossCheck(file, db []store.AuditCheckpoint) *VerifyError {
	for _, cp := range file {
		if !containsCheckpoint(db, cp) {
			return &VerifyError{Reason: fmt.Sprintf("checkpoint of %d events signed at %s is in the external checkpoints file but not in the database (checkpoints deleted from the database, or its write failed)",
				cp.Count, cpTime(cp))}
		}
	}
	for _, cp := range db {
		if !containsCheckpoint(file, cp) {
			return &VerifyError{Reason: fmt.Sprintf("checkpoint of %d events signed at %s is in the database but not in the external checkpoints file (a checkpoint inserted into the database, or the file was replaced)",
				cp.Count, cpTime(cp))}
		}
	}
	return nil
}

// Verify signs a checkpoint of the current head, then walks the stored
// chain (hashes, links, MACs) and checks it against every checkpoint in
// the database and in the external checkpoints file, and each event's
// searchable copy in _internal against the chain.
func (l *Log) Verify(ctx context.Context) (Result, error) {
	if _, err := l.Checkpoint(ctx); err != nil {
		return Result{}, err
	}
	fileCPs, dbCPs, err := l.checkpointsNow(ctx)
	if err != nil {
		return Result{}, err
	}
	v := newVerifier(l.pub, l.key)
	for rec, err := range l.st.AuditRecords(ctx, 1) {
		if err != nil {
			return Result{}, err
		}
		c, verr := v.add(rec.Seq, rec.PrevHash, rec.Hash, rec.MAC, []byte(rec.Body))
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
	cps := mergeCheckpoints(fileCPs, dbCPs)
	if verr := v.checkpoints(cps, false); verr != nil {
		return Result{}, verr
	}
	if verr := crossCheck(fileCPs, dbCPs); verr != nil {
		return Result{}, verr
	}
	return Result{Events: v.n, Checkpoints: len(cps), KeyedFrom: v.keyedFrom, MACsChecked: true}, nil
}

// checkpointsNow reads the external file's and the database's checkpoints
// together, while no checkpoint is being written to them.
func (l *Log) checkpointsNow(ctx context.Context) (file, db []store.AuditCheckpoint, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if db, err = l.st.ListAuditCheckpoints(ctx); err != nil {
		return nil, nil, err
	}
	if file, err = ReadCheckpointsFile(l.cpFile); err != nil {
		return nil, nil, &VerifyError{Reason: fmt.Sprintf("the external checkpoints file cannot be read: %v", err)}
	}
	return file, db, nil
}
