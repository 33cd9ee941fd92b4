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
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/dockyard/dockyard/internal/access"
	"github.com/dockyard/dockyard/internal/audit"
	"github.com/dockyard/dockyard/internal/blob"
	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/store"
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
}

// Registry is the model registry.
type Registry struct {
	st    store.ModelStore
	blobs blob.Store
	rec   audit.Recorder
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
	return &Registry{st: st, blobs: blobs, rec: rec, opts: opts, log: log}
}

// Perms says what the caller may do with a model.
type Perms struct {
	Read  bool `json:"read"`
	Write bool `json:"write"`
	Share bool `json:"share"`
}

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

// Lineage says where a version came from; fit fills it.
type Lineage struct {
	Notebook       string `json:"notebook,omitempty"`
	NotebookDigest string `json:"notebook_digest,omitempty"`
	// NotebookVersion, NotebookFormat and NotebookID name the stored
	// notebook version whose content (NotebookDigest) the fit ran.
	NotebookVersion int    `json:"notebook_version,omitempty"`
	NotebookFormat  string `json:"notebook_format,omitempty"`
	NotebookID      int64  `json:"notebook_id,omitempty"`
	// NotebookPinned is set only by a fit on this server: apply and
	// summary then run exactly the content NotebookDigest names, for
	// anyone who may read the model. An imported version never has it
	// (an archive could name any digest); it runs the notebook Notebook
	// as the caller resolves it.
	NotebookPinned  bool     `json:"notebook_pinned,omitempty"`
	Image           string   `json:"image,omitempty"`
	ImageDigest     string   `json:"image_digest,omitempty"`
	Container       string   `json:"container,omitempty"`
	Runtime         string   `json:"runtime,omitempty"`
	Rows            int64    `json:"rows,omitempty"`
	Features        []string `json:"features,omitempty"`
	Target          string   `json:"target,omitempty"`
	DataFingerprint string   `json:"data_fingerprint,omitempty"`
}

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

func caller(ctx context.Context) (*access.Principal, error) {
	p := access.FromContext(ctx)
	if p == nil || p.User == "" {
		return nil, errdefs.Unauthenticated("no caller identity: sign in and try again")
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
	acl := m.ACL()
	m.Perms = Perms{Read: p.CanRead(acl), Write: p.CanWrite(acl), Share: p.CanShare(acl)}
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

// object names a model in audit events: app/name, or app/owner/name for
// a private one.
func object(m Model) string {
	if m.Sharing == access.SharingUser {
		return m.App + "/" + m.Owner + "/" + m.Name
	}
	return m.App + "/" + m.Name
}

// record writes an audit event; a failure is logged, since the change it
// describes has already happened.
func (r *Registry) record(ctx context.Context, p *access.Principal, action string, m Model, result, msg string, details map[string]any) {
	if r.rec == nil {
		return
	}
	e := audit.Event{
		Time: r.now(), User: p.User, Action: action, Object: object(m), App: appOf(p),
		Result: result, Message: msg, Details: details,
	}
	if err := r.rec.Record(ctx, e); err != nil {
		r.log.ErrorContext(ctx, "audit record failed", "action", action, "object", e.Object, "err", err)
	}
}

// denied records a refused change and returns the error for it.
func (r *Registry) denied(ctx context.Context, p *access.Principal, action string, m Model, msg string) error {
	r.record(ctx, p, action, m, audit.ResultDenied, msg, nil)
	return errdefs.PermissionDenied(msg)
}
