package models

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/dockyard/dockyard/internal/access"
	"github.com/dockyard/dockyard/internal/audit"
	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/knowledge"
	"github.com/dockyard/dockyard/internal/store"
)

// ListOptions filter and page a listing; empty fields do not filter.
type ListOptions struct {
	App     string
	Owner   string
	Sharing string // user | app | global
	Algo    string // algo of the current version
	Tag     string
	Search  string // case-insensitive substring of the name
	Limit   int    // page size; 0: Options.PageSize
	After   string // Page.Next of the previous page
}

// Page is one page of models, ordered by name.
type Page struct {
	Models []Model `json:"models"`
	Next   string  `json:"next,omitempty"` // cursor of the next page; "" on the last
}

// List returns one page of the models the caller may read. Visibility and
// filters are applied by the store query, so pages are full and cheap.
func (r *Registry) List(ctx context.Context, o ListOptions) (Page, error) {
	p, err := caller(ctx)
	if err != nil {
		return Page{}, err
	}
	if o.Sharing != "" {
		if _, err := access.ParseSharing(o.Sharing); err != nil {
			return Page{}, err
		}
	}
	limit := o.Limit
	switch {
	case limit < 0:
		return Page{}, errdefs.Invalid("page size must be positive")
	case limit == 0:
		limit = r.opts.PageSize
	case limit > r.opts.MaxPageSize:
		return Page{}, errdefs.Invalidf("page size %d is over the limit of %d; ask for a smaller page", limit, r.opts.MaxPageSize)
	}
	sp, err := r.st.ListModels(ctx, store.ModelQuery{
		Viewer: store.Viewer{User: p.User, Roles: p.Roles, App: appOf(p), All: p.Can(access.CapAdminAllObjects), Apps: readableApps(p)},
		App:    o.App, Owner: o.Owner, Sharing: o.Sharing, Algo: o.Algo, Tag: o.Tag, Search: o.Search,
		Limit: limit, After: o.After,
	})
	if err != nil {
		return Page{}, err
	}
	page := Page{Models: make([]Model, 0, len(sp.Models)), Next: sp.Next}
	for _, sm := range sp.Models {
		page.Models = append(page.Models, toModel(p, sm))
	}
	return page, nil
}

// Summary is what `models show` prints: the model and one of its versions
// (the current one unless the reference names another).
type Summary struct {
	Name        string            `json:"name"`
	App         string            `json:"app"`
	Owner       string            `json:"owner"`
	Sharing     access.Sharing    `json:"sharing"`
	ReadRoles   []string          `json:"read_roles"`
	WriteRoles  []string          `json:"write_roles"`
	Perms       Perms             `json:"perms"`
	Description string            `json:"description"`
	Tags        []string          `json:"tags"`
	Version     int               `json:"version"`
	Digest      string            `json:"digest"`
	Algo        string            `json:"algo"`
	Created     time.Time         `json:"created"`
	Creator     string            `json:"creator"`
	Params      map[string]string `json:"params"`
	FitInfo     map[string]any    `json:"fit_info"`
	Lineage                       // where the version came from, flattened into the summary
	Files       int               `json:"files"`
	Size        int64             `json:"size"`
	Aliases     map[string]int    `json:"aliases"`
}

// Show returns the summary of the model and version ref names. A model
// without versions yet is shown with Version 0.
func (r *Registry) Show(ctx context.Context, ref Ref) (Summary, error) {
	p, err := caller(ctx)
	if err != nil {
		return Summary{}, err
	}
	m, err := r.find(ctx, p, ref)
	if err != nil {
		return Summary{}, err
	}
	s := Summary{
		Name: m.Name, App: m.App, Owner: m.Owner, Sharing: m.Sharing, ReadRoles: m.Read, WriteRoles: m.Write,
		Perms: m.Perms, Description: m.Description, Tags: m.Tags, Aliases: map[string]int{},
		Params: map[string]string{}, FitInfo: map[string]any{},
	}
	aliases, err := r.st.ListModelAliases(ctx, m.id)
	if err != nil {
		return Summary{}, err
	}
	for _, a := range aliases {
		s.Aliases[a.Alias] = a.Version
	}
	if m.Current == 0 && ref.Version == 0 && ref.Alias == "" {
		return s, nil
	}
	v, err := r.version(ctx, m, ref)
	if err != nil {
		return Summary{}, err
	}
	s.Version, s.Digest, s.Algo, s.Created, s.Creator = v.Version, string(v.Digest), v.Algo, v.Created, v.Creator
	s.Params, s.FitInfo, s.Files, s.Size, s.Lineage = v.Params, v.FitInfo, v.Files, v.Size, v.Lineage
	return s, nil
}

// Versions lists the versions of the model ref names, newest first, each
// with the aliases that point at it.
func (r *Registry) Versions(ctx context.Context, ref Ref) ([]Version, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	m, err := r.find(ctx, p, ref)
	if err != nil {
		return nil, err
	}
	svs, err := r.st.ListModelVersions(ctx, m.id)
	if err != nil {
		return nil, err
	}
	aliases, err := r.st.ListModelAliases(ctx, m.id)
	if err != nil {
		return nil, err
	}
	out := make([]Version, 0, len(svs))
	for _, sv := range svs {
		v, err := toVersion(m, sv)
		if err != nil {
			return nil, err
		}
		for _, a := range aliases {
			if a.Version == v.Version {
				v.Aliases = append(v.Aliases, a.Alias)
			}
		}
		out = append(out, v)
	}
	return out, nil
}

// readableApps lists the apps p may read, for the store's listing query.
func readableApps(p *access.Principal) []string {
	out := []string{}
	for a, perm := range p.Apps {
		if perm.Read {
			out = append(out, a)
		}
	}
	slices.Sort(out)
	return out
}

// validNames checks a list of role names or tags, and sorts and dedups it.
func validNames(kind string, names []string) ([]string, error) {
	return knowledge.ValidNames(kind, names)
}

// Share changes the sharing level and the read and write roles of the model
// ref names: its owner or a holder of admin_all_objects may, and sharing
// beyond the owner needs write on the model's app (knowledge.Share).
func (r *Registry) Share(ctx context.Context, ref Ref, sharing access.Sharing, read, write []string) (Model, error) {
	return store.Run(ctx, r.st, func(ctx context.Context) (Model, error) { return r.shareTx(ctx, ref, sharing, read, write) })
}

// shareTx is Share inside the store transaction of ctx.
func (r *Registry) shareTx(ctx context.Context, ref Ref, sharing access.Sharing, read, write []string) (Model, error) {
	p, err := caller(ctx)
	if err != nil {
		return Model{}, err
	}
	if err := ref.unversioned("share"); err != nil {
		return Model{}, err
	}
	if _, err := access.ParseSharing(string(sharing)); err != nil {
		return Model{}, err
	}
	if _, err = validNames("read role", read); err != nil {
		return Model{}, err
	}
	if _, err = validNames("write role", write); err != nil {
		return Model{}, err
	}
	m, cands, err := r.findAll(ctx, p, ref)
	if err != nil {
		return Model{}, err
	}
	acl, err := knowledge.Share(ctx, r.ko, p, object(m), sharing, read, write, cands, storeObject)
	if err != nil {
		return Model{}, err
	}
	before := map[string]any{"sharing": string(m.Sharing), "read": m.Read, "write": m.Write}
	err = r.st.UpdateModel(ctx, store.Model{
		ID: m.id, Name: m.Name, App: m.App, Owner: m.Owner, Sharing: string(acl.Sharing), Read: acl.Read, Write: acl.Write,
		Description: m.Description, Tags: m.Tags, Updated: r.now(),
	})
	if errdefs.IsConflict(err) {
		return Model{}, errdefs.Conflictf("model %s cannot be shared at %s level: %s already has a model of that name at that level in app %s; rename one of them",
			ref.Base(), sharing, m.Owner, m.App)
	}
	if err != nil {
		return Model{}, err
	}
	sm, err := r.st.GetModel(ctx, m.id)
	if err != nil {
		return Model{}, err
	}
	out := toModel(p, sm)
	r.record(ctx, p, "model.share", out, audit.ResultSuccess, "", map[string]any{
		"before": before, "read": acl.Read, "write": acl.Write,
	})
	return out, nil
}

// ModelUpdate changes the descriptive fields of a model; nil leaves a field.
type ModelUpdate struct {
	Description *string
	Tags        []string // nil: unchanged; empty: no tags
}

// Update changes a model's description and tags (write permission).
func (r *Registry) Update(ctx context.Context, ref Ref, u ModelUpdate) (Model, error) {
	return store.Run(ctx, r.st, func(ctx context.Context) (Model, error) { return r.updateTx(ctx, ref, u) })
}

// updateTx is Update inside the store transaction of ctx.
func (r *Registry) updateTx(ctx context.Context, ref Ref, u ModelUpdate) (Model, error) {
	p, err := caller(ctx)
	if err != nil {
		return Model{}, err
	}
	m, err := r.writable(ctx, p, ref, "model.update")
	if err != nil {
		return Model{}, err
	}
	if u.Description != nil {
		m.Description = *u.Description
	}
	if u.Tags != nil {
		if m.Tags, err = validNames("tag", u.Tags); err != nil {
			return Model{}, err
		}
	}
	err = r.st.UpdateModel(ctx, store.Model{
		ID: m.id, Name: m.Name, App: m.App, Owner: m.Owner, Sharing: string(m.Sharing), Read: m.Read, Write: m.Write,
		Description: m.Description, Tags: m.Tags, Updated: r.now(),
	})
	if err != nil {
		return Model{}, err
	}
	r.record(ctx, p, "model.update", m, audit.ResultSuccess, "", map[string]any{"description": m.Description, "tags": m.Tags})
	sm, err := r.st.GetModel(ctx, m.id)
	if err != nil {
		return Model{}, err
	}
	return toModel(p, sm), nil
}

// Delete removes the model ref names with its versions, aliases and alias
// history (write permission). Its blobs stay in the blob store, since other
// versions may share them; a blob garbage collection reclaims unreferenced ones.
func (r *Registry) Delete(ctx context.Context, ref Ref) error {
	return r.st.InTx(ctx, func(ctx context.Context) error { return r.deleteTx(ctx, ref) })
}

// deleteTx is Delete inside the store transaction of ctx.
func (r *Registry) deleteTx(ctx context.Context, ref Ref) error {
	p, err := caller(ctx)
	if err != nil {
		return err
	}
	if err := ref.unversioned("delete"); err != nil {
		return err
	}
	m, err := r.writable(ctx, p, ref, "model.delete")
	if err != nil {
		return err
	}
	if err := r.st.DeleteModel(ctx, m.id); err != nil {
		return fmt.Errorf("model %s: delete: %w", ref.Base(), err)
	}
	r.record(ctx, p, "model.delete", m, audit.ResultSuccess, "", map[string]any{"latest": m.Latest, "current": m.Current})
	return nil
}
