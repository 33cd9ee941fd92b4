package index

import (
	"context"
	"io"
	"iter"
	"log/slog"
	"path"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/dockyard/dockyard/internal/access"
	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/store"
)

// Built-in index names.
const (
	Main     = access.IndexMain     // "main"
	Internal = access.IndexInternal // "_internal": the audit trail; written only by Dockyard
)

// Info describes an index.
type Info struct {
	Name    string    `json:"name"`
	Builtin bool      `json:"builtin"`
	Created time.Time `json:"created"`
	Events  int64     `json:"events"`
}

// Options configure a Service.
type Options struct {
	Logger *slog.Logger     // nil: discard
	Now    func() time.Time // nil: time.Now
	Host   string           // default host of events that name none (the server's host name)
}

// Service keeps event indexes over a store.EventStore: index management,
// durable batched ingest, permission-checked search, and HEC tokens.
type Service struct {
	st   store.EventStore
	log  *slog.Logger
	now  func() time.Time
	host string
	busy slots // searches preparing events (slots.go)
}

// NewService returns a Service over st.
func NewService(st store.EventStore, opts Options) *Service {
	s := &Service{st: st, log: opts.Logger, now: opts.Now, host: opts.Host, busy: newSlots()}
	if s.log == nil {
		s.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if s.now == nil {
		s.now = time.Now
	}
	return s
}

var indexNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,79}$`)

// ValidateIndexName checks a name for a new index: lower-case letters,
// digits, '_' and '-', starting with a letter or digit, at most 80
// characters (names starting with '_' are reserved for Dockyard).
func ValidateIndexName(name string) error {
	if !indexNameRE.MatchString(name) {
		return errdefs.Invalidf("index name %q is not valid: use 1-80 lower-case letters, digits, '_' or '-', starting with a letter or digit", name)
	}
	return nil
}

// CreateIndex creates an index. The caller's capability (edit_indexes) is
// checked by the API layer.
func (s *Service) CreateIndex(ctx context.Context, name string) (Info, error) {
	if err := ValidateIndexName(name); err != nil {
		return Info{}, err
	}
	ix := store.IndexInfo{Name: name, Created: s.now().UTC()}
	if err := s.st.CreateIndex(ctx, ix); err != nil {
		return Info{}, err
	}
	return Info{Name: name, Created: ix.Created}, nil
}

// DeleteIndex deletes an index and its events; main and _internal cannot
// be deleted.
func (s *Service) DeleteIndex(ctx context.Context, name string) error {
	return s.st.DeleteIndex(ctx, name)
}

// ListIndexes returns the indexes the caller may search (every index for a
// holder of edit_indexes), with event counts, sorted by name.
func (s *Service) ListIndexes(ctx context.Context) ([]Info, error) {
	p := access.FromContext(ctx)
	all, err := s.st.ListIndexes(ctx)
	if err != nil {
		return nil, err
	}
	out := []Info{}
	for _, ix := range all {
		if !p.CanSearchIndex(ix.Name) && !p.Can(access.CapEditIndexes) {
			continue
		}
		full, err := s.st.GetIndex(ctx, ix.Name)
		if errdefs.IsNotFound(err) {
			continue // deleted meanwhile
		}
		if err != nil {
			return nil, err
		}
		out = append(out, Info{Name: full.Name, Builtin: full.Builtin, Created: full.Created, Events: full.Events})
	}
	return out, nil
}

// Ingest stores events in one transaction and returns once they are
// durable. An event without an index goes to main, without a time gets
// now, without a host gets the service's host. It does not check who may
// write where: HEC checks its token's indexes, and only the audit log
// writes _internal.
func (s *Service) Ingest(ctx context.Context, evs []Event) error {
	recs := make([]store.EventRecord, len(evs))
	now := s.now()
	for i, e := range evs {
		if e.Raw == "" {
			return errdefs.Invalidf("event %d has an empty _raw: send some text", i)
		}
		r := store.EventRecord{Index: e.Index, Time: e.Time, Host: e.Host, Source: e.Source, Sourcetype: e.Sourcetype, Raw: e.Raw, Fields: e.Fields}
		if r.Index == "" {
			r.Index = Main
		}
		if r.Time.IsZero() {
			r.Time = now
		}
		if r.Host == "" {
			r.Host = s.host
		}
		recs[i] = r
	}
	if err := s.st.InsertEvents(ctx, recs); err != nil {
		if errdefs.IsNotFound(err) {
			return errdefs.NotFoundf("%w: create the index first", err)
		}
		return err
	}
	return nil
}

// readable resolves the requested index names and patterns to existing
// indexes the caller may read. An index the caller may not read is
// treated exactly as one that does not exist.
func (s *Service) readable(ctx context.Context, requested []string) ([]string, error) {
	p := access.FromContext(ctx)
	all, err := s.st.ListIndexes(ctx)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, req := range requested {
		req = strings.ToLower(strings.TrimSpace(req))
		for _, ix := range all {
			var match bool
			switch {
			case req == "*":
				match = ix.Name != Internal
			case strings.Contains(req, "*"):
				// Patterns reach _-prefixed indexes only when they start with '_'.
				ok, _ := path.Match(req, ix.Name)
				match = ok && (!strings.HasPrefix(ix.Name, "_") || strings.HasPrefix(req, "_"))
			default:
				match = req == ix.Name
			}
			if match && p.CanSearchIndex(ix.Name) && !slices.Contains(out, ix.Name) {
				out = append(out, ix.Name)
			}
		}
	}
	return out, nil
}

// Search streams the events q selects that the caller (access.FromContext)
// may read, with extracted fields. Every term must occur in _raw or an
// indexed field value (case-insensitive; "*" is a wildcard).
func (s *Service) Search(ctx context.Context, q Query) iter.Seq2[Event, error] {
	return func(yield func(Event, error) bool) {
		indexes, err := s.readable(ctx, q.Indexes)
		if err != nil {
			yield(Event{}, err)
			return
		}
		if len(indexes) == 0 {
			return
		}
		m := newMatcher(q.Terms)
		sq := store.EventQuery{Indexes: indexes, Terms: q.Terms, Earliest: q.Earliest, Latest: q.Latest, Reverse: q.Reverse}
		if len(q.Terms) == 0 {
			sq.Limit = q.Limit
		}
		// Events are read and prepared a batch at a time under a slot
		// (slots.go), which is given back before the batch goes to the
		// consumer: after searchBatch events or searchSlice, whichever
		// comes first, so the first results of a sparse search are not
		// held back and no search keeps a slot long.
		batch := make([]Event, 0, searchBatch)
		n := 0
		send := func() bool {
			for _, e := range batch {
				if !yield(e, nil) {
					return false
				}
				if n++; q.Limit > 0 && n >= q.Limit {
					return false
				}
			}
			batch = batch[:0]
			return true
		}
		leave, err := s.busy.take(ctx)
		if err != nil {
			yield(Event{}, err)
			return
		}
		started := time.Now()
		for r, err := range s.st.SearchEvents(ctx, sq) {
			if err != nil {
				leave()
				yield(Event{}, err)
				return
			}
			if m.match(r.Raw, r.Fields) {
				batch = append(batch, fromRecord(r))
			}
			full := len(batch) == searchBatch || (q.Limit > 0 && n+len(batch) >= q.Limit)
			if !full && time.Since(started) < searchSlice {
				continue
			}
			leave()
			if !send() {
				return
			}
			if leave, err = s.busy.take(ctx); err != nil {
				yield(Event{}, err)
				return
			}
			started = time.Now()
		}
		leave()
		send()
	}
}

func fromRecord(r store.EventRecord) Event {
	f := ExtractFields(r.Raw)
	for k, v := range r.Fields {
		if f == nil {
			f = map[string]string{}
		}
		f[k] = v
	}
	return Event{Index: r.Index, Time: r.Time, Host: r.Host, Source: r.Source, Sourcetype: r.Sourcetype, Raw: r.Raw, Fields: f, Seq: r.ID}
}

// InTx runs fn in one transaction of the event store (store.Transactor):
// a token or index change and its audit event commit together.
func (s *Service) InTx(ctx context.Context, fn func(ctx context.Context) error) error {
	return s.st.InTx(ctx, fn)
}
