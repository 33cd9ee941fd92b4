package audit

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"path/filepath"
	"sync"
	"time"

	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/store"
)

// Index and sourcetype of the searchable copies of audit events.
const (
	IndexName  = "_internal"
	Sourcetype = "dockyard:audit"
	SourceName = "dockyard:audit"
)

// Options configure a Log.
type Options struct {
	KeyFile string // ed25519 signing key (PKCS#8 PEM); created 0600 if absent. Required.
	// ChainKeyFile holds the HMAC key of the chain's links (base64 of 32
	// bytes, mode 0600), created on first start; "" is chain.key beside
	// KeyFile. It is never stored in the database.
	ChainKeyFile string
	// CheckpointFile is the external, append-only file of signed
	// checkpoints (JSON lines); "" is checkpoints.jsonl beside KeyFile.
	CheckpointFile string
	// Forward, when set, receives every new checkpoint (an HTTP Event
	// Collector elsewhere). A failed forward is logged; the checkpoint stands.
	Forward *HECForwarder
	// MaxText caps the message and each string detail of an event, in
	// bytes, after redaction (0: no cap).
	MaxText int
	Host    string           // host field of the searchable copies (the server's host name)
	Logger  *slog.Logger     // nil: discard
	Now     func() time.Time // nil: time.Now
}

// Log is the keyed hash chain of audit events. It implements Recorder.
// Record appends inside a store transaction (the caller's, when ctx carries
// one), which the store serialises, so it is durable once that transaction
// commits and the chain never forks.
type Log struct {
	st      store.AuditStore
	priv    ed25519.PrivateKey
	pub     ed25519.PublicKey
	key     []byte // the chain key (HMAC-SHA256 of every link)
	cpFile  string
	forward *HECForwarder
	maxText int
	host    string
	log     *slog.Logger
	now     func() time.Time

	mu        sync.Mutex
	seq       int64  // last committed seq this log knows (for checkpoints)
	head      string // its hash
	keyedFrom int64  // the first keyed link
	lastCP    store.AuditCheckpoint
	pending   []store.AuditCheckpoint // in the database, not yet in the external file
}

var _ Recorder = (*Log)(nil)

// ErrTxFailed is wrapped by the error of a store transaction that Record
// marked failed (store.Fail) because its event could not be written: the
// change rolled back with its event.
var ErrTxFailed = store.ErrTxFailed

// Open loads (or creates) the signing key, the chain key and the external
// checkpoints file, and reads the chain's head. A chain written before links
// were keyed is anchored: an audit.chain.keyed event, keyed, is appended
// and a checkpoint pins the seq from which every link must carry a MAC.
func Open(ctx context.Context, st store.AuditStore, opts Options) (*Log, error) {
	if opts.KeyFile == "" {
		return nil, errdefs.Invalid("audit: a key file path is required")
	}
	dir := filepath.Dir(opts.KeyFile)
	if opts.ChainKeyFile == "" {
		opts.ChainKeyFile = filepath.Join(dir, "chain.key")
	}
	if opts.CheckpointFile == "" {
		opts.CheckpointFile = filepath.Join(dir, "checkpoints.jsonl")
	}
	priv, err := LoadOrCreateKey(opts.KeyFile)
	if err != nil {
		return nil, err
	}
	l := &Log{st: st, priv: priv, pub: priv.Public().(ed25519.PublicKey), cpFile: opts.CheckpointFile, forward: opts.Forward,
		maxText: opts.MaxText, host: opts.Host, log: opts.Logger, now: opts.Now}
	if l.log == nil {
		l.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if l.now == nil {
		l.now = time.Now
	}
	head, err := l.loadHead(ctx)
	if err != nil {
		return nil, err
	}
	dbCPs, err := st.ListAuditCheckpoints(ctx)
	if err != nil {
		return nil, err
	}
	fileCPs, err := openCheckpointsFile(l.cpFile, dbCPs, l.pub, l.log)
	if err != nil {
		return nil, err
	}
	cps := mergeCheckpoints(fileCPs, dbCPs)
	l.lastCP, _ = latestCheckpoint(cps)
	for _, cp := range cps {
		if cp.KeyedFrom > 0 && signatureOK(l.pub, cp) {
			l.keyedFrom = cp.KeyedFrom
		}
	}
	if l.keyedFrom == 0 && head.MAC != "" {
		if l.keyedFrom, err = l.firstKeyed(ctx); err != nil {
			return nil, err
		}
	}
	if err := l.loadChainKey(opts.ChainKeyFile); err != nil {
		return nil, err
	}
	switch {
	case l.seq == 0 && l.keyedFrom == 0:
		l.keyedFrom = 1 // a new chain is keyed from its first event
	case l.keyedFrom == 0:
		if err := l.anchor(ctx); err != nil {
			return nil, err
		}
	case head.MAC == "":
		l.log.Error("audit chain: its last event has no MAC although the chain is keyed; run `dockyard audit verify`",
			"seq", head.Seq, "keyed_from", l.keyedFrom)
	case !macOK(l.key, head.Seq, head.Hash, head.MAC):
		l.log.Error("audit chain: its last event's MAC does not verify with the chain key; run `dockyard audit verify`", "seq", head.Seq)
	}
	return l, nil
}

// loadChainKey reads the chain key, creating it only while no link is
// keyed: a keyed chain whose key is gone cannot be extended or verified.
func (l *Log) loadChainKey(path string) error {
	k, err := ReadChainKey(path)
	if errors.Is(err, fs.ErrNotExist) {
		if l.keyedFrom > 0 && l.seq >= l.keyedFrom {
			return errdefs.Unavailablef("audit: the chain is keyed from seq %d but its key file %s is missing: restore it from a backup of the data dir", l.keyedFrom, path)
		}
		k, err = createChainKey(path)
	}
	if err != nil {
		return err
	}
	l.key = k
	return nil
}

// firstKeyed finds the first link that carries a MAC (a keyed chain with no
// keyed checkpoint yet: the server stopped before its first one).
func (l *Log) firstKeyed(ctx context.Context) (int64, error) {
	for rec, err := range l.st.AuditRecords(ctx, 1) {
		if err != nil {
			return 0, err
		}
		if rec.MAC != "" {
			return rec.Seq, nil
		}
	}
	return 0, nil
}

// anchor keys a chain written before links were keyed: the next event,
// "chain keyed from seq N", is the first keyed link, and a checkpoint at
// once records N outside the database.
func (l *Log) anchor(ctx context.Context) error {
	from := l.seq + 1
	l.keyedFrom = from
	e := Event{User: "dockyard", Action: AnchorAction, Object: "audit", Result: ResultSuccess,
		Message: fmt.Sprintf("chain keyed from seq %d: links before it are verified by their plain hashes up to this anchor", from),
		Details: map[string]any{"keyed_from": from, "unkeyed_events": l.seq}}
	if err := l.Record(ctx, e); err != nil {
		return fmt.Errorf("audit: anchor the keyed chain: %w", err)
	}
	if _, err := l.Checkpoint(ctx); err != nil {
		return fmt.Errorf("audit: anchor the keyed chain: %w", err)
	}
	l.log.Info("audit chain keyed", "keyed_from", from)
	return nil
}

func (l *Log) loadHead(ctx context.Context) (store.AuditRecord, error) {
	h, err := l.st.AuditHead(ctx)
	switch {
	case errdefs.IsNotFound(err):
		l.seq, l.head = 0, GenesisHash
		return store.AuditRecord{}, nil
	case err != nil:
		return h, fmt.Errorf("audit: read the chain's head: %w", err)
	}
	l.seq, l.head = h.Seq, h.Hash
	return h, nil
}

// PublicKey returns the key that verifies checkpoints.
func (l *Log) PublicKey() ed25519.PublicKey { return l.pub }

// CheckpointFile is the path of the external checkpoints file.
func (l *Log) CheckpointFile() string { return l.cpFile }

// Record appends e to the chain and indexes its text in _internal, in one
// durable transaction: the store transaction ctx carries when there is
// one (store.Transactor), so that the event commits with the change it
// describes or not at all; a failure then also marks that transaction
// failed (store.Fail). Secret-looking details and message fragments are
// redacted and long texts capped first. A zero Time is set to now.
func (l *Log) Record(ctx context.Context, e Event) error {
	if e.Time.IsZero() {
		e.Time = l.now()
	}
	e.Time = e.Time.UTC()
	e.Message = capText(RedactText(e.Message), l.maxText)
	d, err := redactDetails(e.Details, l.maxText)
	if err != nil {
		return fmt.Errorf("audit: details of %q: %w", e.Action, err)
	}
	e.Details = d

	err = l.st.InTx(ctx, func(ctx context.Context) error {
		// The transaction holds the store's write lock, so the head read
		// here is the chain's last link and nobody appends after it before
		// this transaction ends: the chain cannot fork.
		prevSeq, prev := int64(0), GenesisHash
		h, err := l.st.AuditHead(ctx)
		switch {
		case errdefs.IsNotFound(err):
		case err != nil:
			return fmt.Errorf("audit: read the chain's head: %w", err)
		default:
			prevSeq, prev = h.Seq, h.Hash
			if err := l.checkHead(h); err != nil {
				return fmt.Errorf("audit: record %q: %w", e.Action, err)
			}
		}
		seq := prevSeq + 1
		body, err := encodeBody(seq, e)
		if err != nil {
			return err
		}
		hash := linkHash(prev, body)
		c, err := decodeBody(body)
		if err != nil {
			return fmt.Errorf("audit: %w", err)
		}
		rec := store.AuditRecord{Seq: seq, PrevHash: prev, Hash: hash, MAC: linkMAC(l.key, seq, hash), Body: string(body)}
		ev := store.EventRecord{Index: IndexName, Time: e.Time, Host: l.host, Source: SourceName, Sourcetype: Sourcetype,
			Raw: FormatLine(seq, c.Event)}
		if err := l.st.AppendAudit(ctx, rec, ev); err != nil {
			return fmt.Errorf("audit: record %q: %w", e.Action, err)
		}
		store.AfterCommit(ctx, func() { l.advance(seq, hash) })
		return nil
	})
	if err != nil {
		// Inside a caller's transaction, the change this event describes
		// must not commit without it, even if the caller only logs.
		store.Fail(ctx, err)
	}
	return err
}

// checkHead refuses to chain after a last link that the chain key did not
// seal (an event written into the database behind the server).
func (l *Log) checkHead(h store.AuditRecord) error {
	l.mu.Lock()
	known := h.Seq == l.seq && h.Hash == l.head
	keyedFrom := l.keyedFrom
	l.mu.Unlock()
	if known || h.Seq < keyedFrom {
		return nil
	}
	if h.MAC == "" || !macOK(l.key, h.Seq, h.Hash, h.MAC) {
		return fmt.Errorf("the stored chain's last event (seq %d) was not written with the chain key: "+
			"the database was changed behind the server; run `dockyard audit verify`: %w", h.Seq, errdefs.ErrConflict)
	}
	return nil
}

// advance moves the head the log knows (for checkpoints) to a committed
// link; commits may report out of order, so it only moves forward.
func (l *Log) advance(seq int64, hash string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if seq > l.seq {
		l.seq, l.head = seq, hash
	}
}

// Checkpoint signs {count, head hash, keyed_from, time} when events were
// recorded since the last checkpoint, appends it to the external
// checkpoints file and the database, forwards it when configured, and
// returns the latest checkpoint. The server calls it on a ticker, at
// shutdown, and before verifying or exporting.
func (l *Log) Checkpoint(ctx context.Context) (store.AuditCheckpoint, error) {
	l.mu.Lock()
	if l.seq == 0 || l.seq == l.lastCP.Count && l.head == l.lastCP.Head && l.keyedFrom == l.lastCP.KeyedFrom {
		defer l.mu.Unlock()
		return l.lastCP, nil
	}
	cp := store.AuditCheckpoint{Count: l.seq, Head: l.head, Time: l.now().UTC(), KeyID: KeyID(l.pub), KeyedFrom: l.keyedFrom}
	cp.Signature = base64.StdEncoding.EncodeToString(ed25519.Sign(l.priv, checkpointMessage(cp)))
	// The database first, then the external file: a crash or a failed
	// write between the two leaves a signed checkpoint only in the
	// database, which the next checkpoint (or start) appends to the file.
	// Nobody without the signing key can put a checkpoint in the database,
	// so copying in that direction is safe; a checkpoint the database lacks
	// is never copied back, and verify reports it.
	if err := l.st.AddAuditCheckpoint(ctx, cp); err != nil {
		l.mu.Unlock()
		return l.lastCP, fmt.Errorf("audit: checkpoint: %w", err)
	}
	l.lastCP = cp
	l.pending = append(l.pending, cp)
	if err := appendCheckpoints(l.cpFile, l.pending...); err != nil {
		l.mu.Unlock()
		return cp, fmt.Errorf("audit: checkpoint of %d events not yet in the external file (retried at the next checkpoint): %w", cp.Count, err)
	}
	l.pending = nil
	l.mu.Unlock()
	l.log.Info("audit checkpoint signed", "count", cp.Count, "head", cp.Head, "keyed_from", cp.KeyedFrom)
	if l.forward != nil {
		if err := l.forward.Forward(ctx, cp); err != nil {
			l.log.Error("audit checkpoint not forwarded to the HTTP Event Collector", "count", cp.Count, "err", err)
		}
	}
	return cp, nil
}
