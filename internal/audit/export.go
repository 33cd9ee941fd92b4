package audit

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/dockyard/dockyard/internal/store"
)

// ExportFormat names the export's JSON-lines format.
const ExportFormat = "dockyard-audit-export"

// exportLine is one line of an export: a header (first), a checkpoint or
// an event.
type exportLine struct {
	Type string `json:"type"` // "header", "checkpoint", "event"

	Format    string    `json:"format,omitempty"`     // header
	Version   int       `json:"version,omitempty"`    // header
	PublicKey string    `json:"public_key,omitempty"` // header: base64 of the 32-byte ed25519 key
	Exported  time.Time `json:"exported,omitzero"`    // header
	// A header also carries, in the checkpoint fields below, the checkpoint
	// signed for this export: the export must end exactly at it.

	Count     int64     `json:"count,omitempty"`      // checkpoint
	Head      string    `json:"head,omitempty"`       // checkpoint
	KeyedFrom int64     `json:"keyed_from,omitempty"` // checkpoint
	Time      time.Time `json:"time,omitzero"`        // checkpoint
	KeyID     string    `json:"key_id,omitempty"`     // checkpoint
	Signature string    `json:"signature,omitempty"`  // checkpoint

	Seq      int64           `json:"seq,omitempty"`       // event
	PrevHash string          `json:"prev_hash,omitempty"` // event
	Hash     string          `json:"hash,omitempty"`      // event
	MAC      string          `json:"mac,omitempty"`       // event: "" on links before the chain was keyed
	Event    json.RawMessage `json:"event,omitempty"`     // event: the canonical body
}

// Export signs a checkpoint of the current head, then writes the chain up
// to that head as JSON lines: a header with the public key, the signed
// checkpoints (from the external file and the database), then every event
// with its seq, prev_hash, hash and MAC. VerifyFile checks it offline.
func (l *Log) Export(ctx context.Context, w io.Writer) error {
	head, err := l.Checkpoint(ctx)
	if err != nil {
		return err
	}
	fileCPs, dbCPs, err := l.checkpointsNow(ctx)
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(exportLine{Type: "header", Format: ExportFormat, Version: 1,
		PublicKey: base64.StdEncoding.EncodeToString(l.pub), Exported: l.now().UTC(),
		Count: head.Count, Head: head.Head, KeyedFrom: head.KeyedFrom, Time: head.Time, KeyID: head.KeyID, Signature: head.Signature}); err != nil {
		return err
	}
	for _, cp := range mergeCheckpoints(fileCPs, dbCPs) {
		if cp.Count > head.Count {
			continue // signed while this export ran: beyond its events
		}
		if err := enc.Encode(exportLine{Type: "checkpoint", Count: cp.Count, Head: cp.Head, KeyedFrom: cp.KeyedFrom, Time: cp.Time,
			KeyID: cp.KeyID, Signature: cp.Signature}); err != nil {
			return err
		}
	}
	for rec, err := range l.st.AuditRecords(ctx, 1) {
		if err != nil {
			return err
		}
		if rec.Seq > head.Count {
			break
		}
		if err := enc.Encode(exportLine{Type: "event", Seq: rec.Seq, PrevHash: rec.PrevHash, Hash: rec.Hash, MAC: rec.MAC,
			Event: json.RawMessage(rec.Body)}); err != nil {
			return fmt.Errorf("audit export: event %d: %w", rec.Seq, err)
		}
	}
	return bw.Flush()
}

// FileOptions say what VerifyFile checks an export against.
type FileOptions struct {
	// PublicKey is the server's public key (from `dockyard audit key`);
	// nil: the key in the file's header is used and Result.KeyFromFile set.
	PublicKey ed25519.PublicKey
	// ChainKey, when set, checks every link's MAC too (the server's
	// chain.key); without it only the signed checkpoints vouch for the links.
	ChainKey []byte
	// Checkpoints, when not nil, are the external checkpoints file's (or
	// the HEC copy's): the export must not diverge from any of them, and its
	// own final checkpoint must be among them.
	Checkpoints []store.AuditCheckpoint
}

// VerifyFile checks an export offline: its links, then its checkpoints
// (and opts.Checkpoints): the export fails when it has no valid checkpoint,
// is shorter than or diverges from the latest one, or has events the latest
// one does not cover.
func VerifyFile(r io.Reader, opts FileOptions) (Result, error) {
	pub := opts.PublicKey
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 64<<20)
	var v *verifier
	var cps []store.AuditCheckpoint
	var final *store.AuditCheckpoint // the header's: where the export ends
	res := Result{MACsChecked: opts.ChainKey != nil}
	line := 0
	for sc.Scan() {
		line++
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		var l exportLine
		if err := json.Unmarshal(b, &l); err != nil {
			return Result{}, &VerifyError{Reason: fmt.Sprintf("line %d is not JSON: %v", line, err)}
		}
		if v == nil {
			if l.Type != "header" || l.Format != ExportFormat || l.Version != 1 {
				return Result{}, &VerifyError{Reason: "the file does not start with a dockyard audit export header"}
			}
			fileKey, err := ParsePublicKey([]byte(l.PublicKey))
			if err != nil {
				return Result{}, &VerifyError{Reason: "the header's public key is not valid"}
			}
			if pub == nil {
				pub, res.KeyFromFile = fileKey, true
			} else if !pub.Equal(fileKey) {
				return Result{}, &VerifyError{Reason: "the export names a different public key than the one given (key " + KeyID(fileKey) + ", want " + KeyID(pub) + ")"}
			}
			v = newVerifier(pub, opts.ChainKey)
			if l.Signature != "" {
				final = &store.AuditCheckpoint{Count: l.Count, Head: l.Head, KeyedFrom: l.KeyedFrom, Time: l.Time, KeyID: l.KeyID, Signature: l.Signature}
				cps = append(cps, *final)
			}
			continue
		}
		switch l.Type {
		case "checkpoint":
			cps = append(cps, store.AuditCheckpoint{Count: l.Count, Head: l.Head, KeyedFrom: l.KeyedFrom, Time: l.Time, KeyID: l.KeyID, Signature: l.Signature})
		case "event":
			if _, verr := v.add(l.Seq, l.PrevHash, l.Hash, l.MAC, l.Event); verr != nil {
				return Result{}, verr
			}
		default:
			return Result{}, &VerifyError{Reason: fmt.Sprintf("line %d has unknown type %q", line, l.Type)}
		}
	}
	if err := sc.Err(); err != nil {
		return Result{}, fmt.Errorf("audit verify: read: %w", err)
	}
	if v == nil {
		return Result{}, &VerifyError{Reason: "the file is empty"}
	}
	if final != nil {
		cps = mergeCheckpoints(cps[1:], cps[:1])
	}
	if verr := v.checkpoints(cps, true); verr != nil {
		return Result{}, verr
	}
	if final != nil && final.Count != v.n {
		return Result{}, &VerifyError{Seq: min(final.Count, v.n) + 1, Reason: fmt.Sprintf("the export's signed header says it ends at seq %d, but it holds %d events (events deleted from, or added to, the file)", final.Count, v.n)}
	}
	if opts.Checkpoints != nil {
		behind, verr := v.against(opts.Checkpoints, final)
		if verr != nil {
			verr.Reason += " [checked against the external checkpoints]"
			return Result{}, verr
		}
		res.ExternalAhead = behind
	}
	res.Events, res.Checkpoints, res.KeyedFrom = v.n, len(cps), v.keyedFrom
	return res, nil
}
