package store

import (
	"context"
	"iter"
	"time"
)

// IndexInfo describes one event index.
type IndexInfo struct {
	Name    string
	Builtin bool // main and _internal: cannot be deleted
	Created time.Time
	Events  int64 // number of events (filled by GetIndex only: counting is not free)
}

// EventRecord is one stored event. ID is assigned by InsertEvents and grows
// with insertion order.
type EventRecord struct {
	ID         int64
	Index      string
	Time       time.Time
	Host       string
	Source     string
	Sourcetype string
	Raw        string
	Fields     map[string]string // indexed fields (HEC "fields"); extracted fields are not stored
}

// EventQuery selects events. Terms is a superset filter: a backend returns
// at least every event whose _raw or an indexed field value contains each
// term (case-insensitive; a term with spaces or punctuation is a phrase; a
// "*" in a term is a wildcard) and may return more; the caller checks exactly.
type EventQuery struct {
	Indexes  []string  // required: names of existing indexes
	Terms    []string  // full-text filter
	Earliest time.Time // inclusive; zero is unbounded
	Latest   time.Time // exclusive; zero is unbounded
	Limit    int       // 0: unlimited
	Reverse  bool      // newest first; otherwise oldest first
}

// HECToken is an HTTP Event Collector token. Only the SHA-256 of its secret
// is stored; Last4 holds the secret's last four characters for display.
type HECToken struct {
	Name         string
	Hash         string // hex SHA-256 of the secret
	Last4        string
	Indexes      []string // indexes the token may write to
	DefaultIndex string
	Disabled     bool
	Creator      string
	Created      time.Time
	UseAck       bool // indexer acknowledgement: successes carry an ackId per channel
}

// AuditRecord is one link of the audit hash chain. Body is the canonical
// JSON of the event (its seq included); Hash is hex
// SHA-256(PrevHash || Body) and MAC the keyed HMAC of Hash, as the audit
// package defines them ("" on links written before the chain was keyed).
type AuditRecord struct {
	Seq      int64
	PrevHash string
	Hash     string
	MAC      string
	Body     string
	// IndexedRaw is the _raw text of the event's searchable copy in index
	// _internal, as read back by AuditRecords; "" when the copy is missing.
	// AppendAudit ignores it.
	IndexedRaw string
}

// AuditCheckpoint is a signed statement that the chain held Count events
// ending in Head at Time.
type AuditCheckpoint struct {
	Count     int64
	Head      string // hex hash of event Count ("" when Count is 0)
	Time      time.Time
	KeyID     string // hex SHA-256 of the signing public key, first 16 characters
	Signature string // base64 ed25519 signature
	// KeyedFrom is the seq from which every link carries a MAC (0 on
	// checkpoints signed before the chain was keyed).
	KeyedFrom int64
}

// EventStore keeps event indexes, events with a full-text index, HTTP
// Event Collector tokens and the audit chain.
type EventStore interface {
	// CreateIndex adds an index; ErrConflict if the name exists.
	CreateIndex(ctx context.Context, ix IndexInfo) error
	// GetIndex returns one index, or ErrNotFound.
	GetIndex(ctx context.Context, name string) (IndexInfo, error)
	// ListIndexes returns every index, sorted by name, without counting
	// events (Events is 0).
	ListIndexes(ctx context.Context) ([]IndexInfo, error)
	// DeleteIndex removes an index and all its events; ErrNotFound if
	// absent. Built-in indexes cannot be deleted (ErrInvalid).
	DeleteIndex(ctx context.Context, name string) error

	// InsertEvents stores the events in one transaction (all or none) and
	// returns once they are durable; ErrNotFound if an index does not exist.
	InsertEvents(ctx context.Context, evs []EventRecord) error
	// SearchEvents streams the events that q selects, in time order
	// (newest first when q.Reverse), ties broken by ID.
	SearchEvents(ctx context.Context, q EventQuery) iter.Seq2[EventRecord, error]

	// CreateHECToken adds a token; ErrConflict if the name or hash exists.
	CreateHECToken(ctx context.Context, t HECToken) error
	// GetHECTokenByHash returns the token whose Hash is hash, or ErrNotFound.
	GetHECTokenByHash(ctx context.Context, hash string) (HECToken, error)
	// ListHECTokens returns every token, sorted by name.
	ListHECTokens(ctx context.Context) ([]HECToken, error)
	// SetHECTokenDisabled disables or enables a token; ErrNotFound if absent.
	SetHECTokenDisabled(ctx context.Context, name string, disabled bool) error
	// DeleteHECToken removes a token; ErrNotFound if absent.
	DeleteHECToken(ctx context.Context, name string) error

	AuditStore
}

// AuditStore keeps the audit hash chain and its signed checkpoints.
type AuditStore interface {
	// AppendAudit stores rec and its searchable copy ev (in index
	// _internal) in one transaction; ErrConflict if rec.Seq exists.
	AppendAudit(ctx context.Context, rec AuditRecord, ev EventRecord) error
	// AuditHead returns the record with the highest Seq, or ErrNotFound
	// when the chain is empty.
	AuditHead(ctx context.Context) (AuditRecord, error)
	// AuditRecords streams records with Seq >= from in Seq order, each with
	// IndexedRaw filled.
	AuditRecords(ctx context.Context, from int64) iter.Seq2[AuditRecord, error]
	// AddAuditCheckpoint stores a checkpoint.
	AddAuditCheckpoint(ctx context.Context, cp AuditCheckpoint) error
	// ListAuditCheckpoints returns every checkpoint, oldest first.
	ListAuditCheckpoints(ctx context.Context) ([]AuditCheckpoint, error)
}
