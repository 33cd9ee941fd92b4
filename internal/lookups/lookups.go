// Package lookups keeps CSV lookup tables: uploaded or written by
// outputlookup, stored per app as knowledge objects with the same owner,
// sharing and role permissions as models, their bytes in the blob store and
// their metadata in the SQL store. Service implements search.Lookups.
//
// A name resolves as models do: the caller's private lookup in the current
// app, then the one shared in the app (app or global sharing), then one
// shared globally from another app. A lookup the caller may not read is
// answered exactly like a missing one: "lookup not found: NAME".
package lookups

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"regexp"
	"slices"
	"time"

	"github.com/dockyard/dockyard/internal/access"
	"github.com/dockyard/dockyard/internal/audit"
	"github.com/dockyard/dockyard/internal/blob"
	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/knowledge"
	"github.com/dockyard/dockyard/internal/store"
)

// Config holds the service's settings; its defaults live in config.Default.
type Config struct {
	// MaxBytes caps the size of one lookup file; 0 means no cap.
	MaxBytes int64
}

// Lookup is a lookup table's metadata as the caller sees it.
type Lookup struct {
	Name    string         `json:"name"`
	App     string         `json:"app"`
	Owner   string         `json:"owner"`
	Sharing access.Sharing `json:"sharing"`
	Read    []string       `json:"read"`
	Write   []string       `json:"write"`
	Digest  string         `json:"digest"`
	Size    int64          `json:"size"`
	Created time.Time      `json:"created"`
	Updated time.Time      `json:"updated"`
	Perms   Perms          `json:"perms"`

	id int64
}

// Perms says what the caller may do with a lookup.
type Perms = knowledge.Perms

// ACL returns the lookup's permission record.
func (l Lookup) ACL() access.ACL {
	return access.ACL{Owner: l.Owner, App: l.App, Sharing: l.Sharing, Read: l.Read, Write: l.Write}
}

// Service stores and resolves lookups for the caller in ctx.
type Service struct {
	st    store.LookupStore
	blobs blob.Store
	ko    *knowledge.Kind
	cfg   Config
	log   *slog.Logger
	now   func() time.Time
}

// New returns a Service. rec may be nil (nothing is audited); log may be
// nil (nothing is logged).
func New(st store.LookupStore, blobs blob.Store, rec audit.Recorder, cfg Config, log *slog.Logger) *Service {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ko := knowledge.NewKind(knowledge.Kind{Noun: "lookup", ValidateName: ValidateName}, rec, log)
	return &Service{st: st, blobs: blobs, ko: ko, cfg: cfg, log: log, now: func() time.Time { return time.Now().UTC() }}
}

// object is a lookup as the knowledge package sees it.
func object(s store.Lookup) knowledge.Object {
	return knowledge.Object{ID: s.ID, Name: s.Name, ACL: access.ACL{Owner: s.Owner, App: s.App,
		Sharing: access.Sharing(s.Sharing), Read: s.Read, Write: s.Write}}
}

var nameRE = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,195}\.csv$`)

// ValidateName checks a lookup name: letters, digits, _ . - ending in .csv.
func ValidateName(name string) error {
	if !nameRE.MatchString(name) {
		return errdefs.Invalidf("lookup name %q: use letters, digits, _, . and - and end it in .csv", name)
	}
	return nil
}

// caller returns the principal of ctx and the app names resolve in (app,
// or the caller's app context; one the caller may not read is not found).
func caller(ctx context.Context, app string) (*access.Principal, string, error) {
	p, err := knowledge.Caller(ctx)
	if err != nil {
		return nil, "", err
	}
	app, err = knowledge.ContextApp(p, app)
	return p, app, err
}

func toLookup(p *access.Principal, s store.Lookup) Lookup {
	l := Lookup{Name: s.Name, App: s.App, Owner: s.Owner, Sharing: access.Sharing(s.Sharing),
		Read: s.Read, Write: s.Write, Digest: s.Digest, Size: s.Size, Created: s.Created, Updated: s.Updated, id: s.ID}
	l.Perms = knowledge.PermsOf(p, l.ACL())
	return l
}

// find resolves name in app to a lookup the caller may read, and returns
// every lookup of that name too.
func (s *Service) find(ctx context.Context, p *access.Principal, app, name string) (Lookup, []store.Lookup, error) {
	if err := ValidateName(name); err != nil {
		return Lookup{}, nil, err
	}
	cands, err := s.st.FindLookups(ctx, name)
	if err != nil {
		return Lookup{}, nil, fmt.Errorf("lookup %s: %w", name, err)
	}
	best, err := knowledge.Find(s.ko, p, knowledge.Query{App: app, Name: name}, cands, object)
	if err != nil {
		return Lookup{}, cands, err
	}
	return toLookup(p, best), cands, nil
}

// Open returns the CSV content of the lookup name resolves to in app.
func (s *Service) Open(ctx context.Context, app, name string) (io.ReadCloser, error) {
	_, rc, err := s.Fetch(ctx, app, name)
	return rc, err
}

// Fetch returns the metadata and the CSV content of the lookup name
// resolves to in app, both of one version: a concurrent upload cannot make
// the content disagree with the size and digest.
func (s *Service) Fetch(ctx context.Context, app, name string) (Lookup, io.ReadCloser, error) {
	p, app, err := caller(ctx, app)
	if err != nil {
		return Lookup{}, nil, err
	}
	l, _, err := s.find(ctx, p, app, name)
	if err != nil {
		return Lookup{}, nil, err
	}
	rc, err := s.blobs.Open(ctx, blob.Digest(l.Digest))
	if err != nil {
		return Lookup{}, nil, fmt.Errorf("lookup %s: content: %w", name, err)
	}
	return l, rc, nil
}

// Get returns the metadata of the lookup name resolves to in app.
func (s *Service) Get(ctx context.Context, app, name string) (Lookup, error) {
	p, app, err := caller(ctx, app)
	if err != nil {
		return Lookup{}, err
	}
	l, _, err := s.find(ctx, p, app, name)
	return l, err
}

// List returns the lookups the caller may read from app: its private ones
// and the app's shared ones there, and globally shared ones from anywhere.
func (s *Service) List(ctx context.Context, app string) ([]Lookup, error) {
	p, app, err := caller(ctx, app)
	if err != nil {
		return nil, err
	}
	all, err := s.st.ListLookups(ctx, "")
	if err != nil {
		return nil, err
	}
	out := []Lookup{}
	for _, c := range all {
		visible := c.Sharing == string(access.SharingGlobal) ||
			c.App == app && (c.Sharing == string(access.SharingApp) || c.Owner == p.User)
		if l := toLookup(p, c); visible && l.Perms.Read {
			out = append(out, l)
		}
	}
	slices.SortStableFunc(out, func(a, b Lookup) int {
		if a.Name != b.Name {
			return cmpStr(a.Name, b.Name)
		}
		return cmpStr(a.App, b.App)
	})
	return out, nil
}

func cmpStr(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func (s *Service) record(ctx context.Context, p *access.Principal, action string, l Lookup, result, msg string) {
	s.ko.Record(ctx, p, action, object(store.Lookup{ID: l.id, Name: l.Name, App: l.App, Owner: l.Owner, Sharing: string(l.Sharing),
		Read: l.Read, Write: l.Write}), result, msg, map[string]any{"digest": l.Digest, "size": l.Size})
}
