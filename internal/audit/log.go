package audit

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
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
	KeyFile string           // ed25519 signing key (PKCS#8 PEM); created 0600 if absent. Required.
	Host    string           // host field of the searchable copies (the server's host name)
	Logger  *slog.Logger     // nil: discard
	Now     func() time.Time // nil: time.Now
}

// Log is the hash-chained audit log. It implements Recorder; Record is
// serialised and durable before it returns.
type Log struct {
	st   store.AuditStore
	priv ed25519.PrivateKey
	pub  ed25519.PublicKey
	host string
	log  *slog.Logger
	now  func() time.Time

	mu     sync.Mutex
	seq    int64  // last seq
	head   string // last hash
	lastCP store.AuditCheckpoint
}

var _ Recorder = (*Log)(nil)

// Open loads (or creates) the signing key and the chain's head.
func Open(ctx context.Context, st store.AuditStore, opts Options) (*Log, error) {
	if opts.KeyFile == "" {
		return nil, errdefs.Invalid("audit: a key file path is required")
	}
	priv, err := LoadOrCreateKey(opts.KeyFile)
	if err != nil {
		return nil, err
	}
	l := &Log{st: st, priv: priv, pub: priv.Public().(ed25519.PublicKey), host: opts.Host, log: opts.Logger, now: opts.Now}
	if l.log == nil {
		l.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if l.now == nil {
		l.now = time.Now
	}
	if err := l.loadHead(ctx); err != nil {
		return nil, err
	}
	cps, err := st.ListAuditCheckpoints(ctx)
	if err != nil {
		return nil, err
	}
	if len(cps) > 0 {
		l.lastCP = cps[len(cps)-1]
	}
	return l, nil
}

func (l *Log) loadHead(ctx context.Context) error {
	h, err := l.st.AuditHead(ctx)
	switch {
	case errdefs.IsNotFound(err):
		l.seq, l.head = 0, GenesisHash
	case err != nil:
		return fmt.Errorf("audit: read the chain's head: %w", err)
	default:
		l.seq, l.head = h.Seq, h.Hash
	}
	return nil
}

// PublicKey returns the key that verifies checkpoints.
func (l *Log) PublicKey() ed25519.PublicKey { return l.pub }

// Record appends e to the chain and indexes its text in _internal, in one
// durable transaction. Secret-looking details and message fragments are
// redacted first. A zero Time is set to now.
func (l *Log) Record(ctx context.Context, e Event) error {
	if e.Time.IsZero() {
		e.Time = l.now()
	}
	e.Time = e.Time.UTC()
	e.Message = RedactText(e.Message)
	d, err := redactDetails(e.Details)
	if err != nil {
		return fmt.Errorf("audit: details of %q: %w", e.Action, err)
	}
	e.Details = d

	l.mu.Lock()
	defer l.mu.Unlock()
	for attempt := 0; ; attempt++ {
		seq := l.seq + 1
		body, err := encodeBody(seq, e)
		if err != nil {
			return err
		}
		hash := linkHash(l.head, body)
		c, err := decodeBody(body)
		if err != nil {
			return fmt.Errorf("audit: %w", err)
		}
		rec := store.AuditRecord{Seq: seq, PrevHash: l.head, Hash: hash, Body: string(body)}
		ev := store.EventRecord{Index: IndexName, Time: e.Time, Host: l.host, Source: SourceName, Sourcetype: Sourcetype,
			Raw: FormatLine(seq, c.Event)}
		err = l.st.AppendAudit(ctx, rec, ev)
		if errdefs.IsConflict(err) && attempt == 0 {
			// Someone else appended (another server on the same store):
			// re-read the head and chain after it.
			if err := l.loadHead(ctx); err != nil {
				return err
			}
			continue
		}
		if err != nil {
			return fmt.Errorf("audit: record %q: %w", e.Action, err)
		}
		l.seq, l.head = seq, hash
		return nil
	}
}

// checkpointMessage is the signed statement of a checkpoint.
func checkpointMessage(count int64, head string, t time.Time) []byte {
	b, _ := json.Marshal(struct {
		Count int64  `json:"count"`
		Head  string `json:"head"`
		Time  string `json:"time"`
	}{count, head, t.UTC().Format(time.RFC3339Nano)})
	return append([]byte("dockyard-audit-checkpoint-v1\n"), b...)
}

// Checkpoint signs and stores {count, head hash, time} when events were
// recorded since the last checkpoint, and returns the latest checkpoint.
// The server calls it on a ticker and on shutdown.
func (l *Log) Checkpoint(ctx context.Context) (store.AuditCheckpoint, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.seq == 0 || l.seq == l.lastCP.Count {
		return l.lastCP, nil
	}
	t := l.now().UTC()
	cp := store.AuditCheckpoint{Count: l.seq, Head: l.head, Time: t, KeyID: KeyID(l.pub),
		Signature: base64.StdEncoding.EncodeToString(ed25519.Sign(l.priv, checkpointMessage(l.seq, l.head, t)))}
	if err := l.st.AddAuditCheckpoint(ctx, cp); err != nil {
		return l.lastCP, fmt.Errorf("audit: checkpoint: %w", err)
	}
	l.lastCP = cp
	l.log.Info("audit checkpoint signed", "count", cp.Count, "head", cp.Head)
	return cp, nil
}
