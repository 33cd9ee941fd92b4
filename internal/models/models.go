// Package models is Dockyard's model registry: models as knowledge objects
// (owner, app, user/app/global sharing, read and write roles), immutable
// content-addressed versions with lineage, aliases with a recorded history
// and one-step rollback, listing filtered by visibility in the store query,
// import and export, and retention.
//
// Every method takes the caller's access.Principal from ctx. A model the
// caller may not read is reported exactly like one that does not exist:
// errdefs.NotFound("model not found: NAME").
package models

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/dockyard/dockyard/internal/access"
	"github.com/dockyard/dockyard/internal/audit"
	"github.com/dockyard/dockyard/internal/blob"
	"github.com/dockyard/dockyard/internal/knowledge"
	"github.com/dockyard/dockyard/internal/signing"
	"github.com/dockyard/dockyard/internal/store"
	"github.com/dockyard/dockyard/internal/transfer"
)

// Options tune the registry. Their defaults live in internal/config.
type Options struct {
	// KeepVersions is how many of the newest versions retention keeps per
	// model (aliased versions are always kept); 0 keeps every version.
	KeepVersions int
	// PageSize is the listing page size when the caller names none; 0 means 50.
	PageSize int
	// MaxPageSize caps a listing page; 0 means 1000.
	MaxPageSize int
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// BundleKey signs every exported archive (nil: exports are unsigned).
	BundleKey ed25519.PrivateKey
	// TrustedBundleKeys are the keys of other sites whose signed archives
	// an import trusts (this server's own key is always trusted).
	TrustedBundleKeys func(ctx context.Context) ([]signing.Trusted, error)
}

// Registry is the model registry.
type Registry struct {
	st    store.ModelStore
	blobs blob.Store
	ko    *knowledge.Kind
	opts  Options
	log   *slog.Logger
}

// New returns a registry over a model store and a blob store that records
// changes to rec.
func New(st store.ModelStore, blobs blob.Store, rec audit.Recorder, opts Options, log *slog.Logger) *Registry {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.PageSize <= 0 {
		opts.PageSize = 50
	}
	if opts.MaxPageSize <= 0 {
		opts.MaxPageSize = 1000
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ko := knowledge.NewKind(knowledge.Kind{Noun: "model", ValidateName: ValidateName}, rec, log)
	ko.SetClock(func() time.Time { return opts.Now().UTC() })
	return &Registry{st: st, blobs: blobs, ko: ko, opts: opts, log: log}
}

// Perms says what the caller may do with a model.
type Perms = knowledge.Perms

// Model is a model as the caller sees it.
type Model struct {
	Name        string         `json:"name"`
	App         string         `json:"app"`
	Owner       string         `json:"owner"`
	Sharing     access.Sharing `json:"sharing"`
	Read        []string       `json:"read"`
	Write       []string       `json:"write"`
	Description string         `json:"description"`
	Tags        []string       `json:"tags"`
	Current     int            `json:"current"` // version of the current alias; 0 before the first
	Latest      int            `json:"latest"`  // highest version number allocated
	Algo        string         `json:"algo"`    // algo of the current version
	Created     time.Time      `json:"created"`
	Updated     time.Time      `json:"updated"`
	Perms       Perms          `json:"perms"`

	id int64
}

// ACL returns the model's permission record.
func (m Model) ACL() access.ACL {
	return access.ACL{Owner: m.Owner, App: m.App, Sharing: m.Sharing, Read: m.Read, Write: m.Write}
}

// Lineage says where a version came from; fit fills it. It travels in
// model archives (transfer.Lineage).
type Lineage = transfer.Lineage

// Version is one immutable version of a model.
type Version struct {
	Model   string            `json:"model"`
	App     string            `json:"app"`
	Version int               `json:"version"`
	Digest  blob.Digest       `json:"digest"` // of the canonical manifest
	Created time.Time         `json:"created"`
	Creator string            `json:"creator"`
	Algo    string            `json:"algo"`
	Params  map[string]string `json:"params"`
	FitInfo map[string]any    `json:"fit_info"`
	Lineage Lineage           `json:"lineage"`
	Files   int               `json:"files"`
	Size    int64             `json:"size"`
	Aliases []string          `json:"aliases,omitempty"`
}

// AliasMove is one recorded move of an alias: From 0 means the alias was
// created, To 0 that it was removed.
type AliasMove struct {
	Alias  string    `json:"alias"`
	From   int       `json:"from"`
	To     int       `json:"to"`
	User   string    `json:"user"`
	Time   time.Time `json:"time"`
	Reason string    `json:"reason"`
}

// caller returns the principal of ctx, whose app context it must be able
// to read ("app not found" otherwise).
func caller(ctx context.Context) (*access.Principal, error) {
	p, err := knowledge.Caller(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := knowledge.ContextApp(p, ""); err != nil {
		return nil, err
	}
	return p, nil
}

// appOf is the app context of the request.
func appOf(p *access.Principal) string {
	if p.App == "" {
		return access.DefaultApp
	}
	return p.App
}

func (r *Registry) now() time.Time { return r.opts.Now().UTC() }

func toModel(p *access.Principal, sm store.Model) Model {
	m := Model{
		Name: sm.Name, App: sm.App, Owner: sm.Owner, Sharing: access.Sharing(sm.Sharing),
		Read: nonNil(sm.Read), Write: nonNil(sm.Write), Description: sm.Description, Tags: nonNil(sm.Tags),
		Current: sm.Current, Latest: sm.Latest, Algo: sm.Algo, Created: sm.Created, Updated: sm.Updated, id: sm.ID,
	}
	m.Perms = knowledge.PermsOf(p, m.ACL())
	return m
}

func nonNil(l []string) []string {
	if l == nil {
		return []string{}
	}
	return l
}

func toVersion(m Model, sv store.ModelVersion) (Version, error) {
	v := Version{
		Model: m.Name, App: m.App, Version: sv.Version, Digest: blob.Digest(sv.Digest), Created: sv.Created,
		Creator: sv.Creator, Algo: sv.Algo, Files: sv.Files, Size: sv.Size,
		Params: map[string]string{}, FitInfo: map[string]any{},
	}
	for _, f := range []struct {
		text string
		into any
	}{{sv.Params, &v.Params}, {sv.FitInfo, &v.FitInfo}, {sv.Lineage, &v.Lineage}} {
		if f.text == "" {
			continue
		}
		if err := json.Unmarshal([]byte(f.text), f.into); err != nil {
			return v, fmt.Errorf("model %s version %d: stored metadata is not valid JSON: %w", m.Name, sv.Version, err)
		}
	}
	return v, nil
}

// object is a model as the knowledge package sees it.
func object(m Model) knowledge.Object {
	return knowledge.Object{ID: m.id, Name: m.Name, ACL: m.ACL()}
}

// storeObject is a stored model as the knowledge package sees it.
func storeObject(sm store.Model) knowledge.Object {
	return knowledge.Object{ID: sm.ID, Name: sm.Name, ACL: access.ACL{Owner: sm.Owner, App: sm.App,
		Sharing: access.Sharing(sm.Sharing), Read: sm.Read, Write: sm.Write}}
}

// record writes an audit event through the knowledge package.
func (r *Registry) record(ctx context.Context, p *access.Principal, action string, m Model, result, msg string, details map[string]any) {
	r.ko.Record(ctx, p, action, object(m), result, msg, details)
}

// denied records a refused change and returns the error for it.
func (r *Registry) denied(ctx context.Context, p *access.Principal, action string, m Model, msg string) error {
	return r.ko.Denied(ctx, p, action, object(m), msg)
}
