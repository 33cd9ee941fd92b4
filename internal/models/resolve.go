package models

import (
	"context"
	"fmt"
	"slices"

	"github.com/dockyard/dockyard/internal/access"
	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/knowledge"
	"github.com/dockyard/dockyard/internal/store"
)

// find resolves ref to a model the caller may read, in the seed's order
// (knowledge.Find): the caller's private model in the current app, then the
// one shared at app level (or globally) in the current app, then a globally
// shared one from another app. "app:NAME" skips the private step.
func (r *Registry) find(ctx context.Context, p *access.Principal, ref Ref) (Model, error) {
	m, _, err := r.findAll(ctx, p, ref)
	return m, err
}

// findAll is find that also returns every model of the name.
func (r *Registry) findAll(ctx context.Context, p *access.Principal, ref Ref) (Model, []store.Model, error) {
	if err := ValidateName(ref.Name); err != nil {
		return Model{}, nil, err
	}
	if ref.AppShared && ref.Owner != "" {
		return Model{}, nil, errdefs.Invalidf("model %s: an owner addresses a private model; drop the app: prefix", ref.Base())
	}
	cands, err := r.st.FindModels(ctx, ref.Name)
	if err != nil {
		return Model{}, nil, fmt.Errorf("model %s: %w", ref.Base(), err)
	}
	q := knowledge.Query{App: appOf(p), Name: ref.Name, AppShared: ref.AppShared, Owner: ref.Owner}
	best, err := knowledge.Find(r.ko, p, q, cands, storeObject)
	if err != nil {
		return Model{}, cands, r.ko.NotFound(ref.Base())
	}
	return toModel(p, best), cands, nil
}

// version returns the version ref names: its number, its alias, or the
// current one.
func (r *Registry) version(ctx context.Context, m Model, ref Ref) (Version, error) {
	n := ref.Version
	switch {
	case n > 0:
	case ref.Alias != "":
		aliases, err := r.st.ListModelAliases(ctx, m.id)
		if err != nil {
			return Version{}, err
		}
		i := slices.IndexFunc(aliases, func(a store.ModelAlias) bool { return a.Alias == ref.Alias })
		if i < 0 {
			return Version{}, errdefs.NotFoundf("model %s has no alias %q; see its aliases with models show", ref.Base(), ref.Alias)
		}
		n = aliases[i].Version
	default:
		if m.Current == 0 {
			return Version{}, errdefs.NotFoundf("model %s has no versions yet; fit or import one first", ref.Base())
		}
		n = m.Current
	}
	sv, err := r.st.GetModelVersion(ctx, m.id, n)
	if errdefs.IsNotFound(err) {
		return Version{}, errdefs.NotFoundf("model %s has no version %d; list them with models versions", ref.Base(), n)
	}
	if err != nil {
		return Version{}, err
	}
	return toVersion(m, sv)
}

// Resolve returns the model and version that ref names, for a caller who
// may read it (fit and apply use it).
func (r *Registry) Resolve(ctx context.Context, ref Ref) (Model, Version, error) {
	p, err := caller(ctx)
	if err != nil {
		return Model{}, Version{}, err
	}
	m, err := r.find(ctx, p, ref)
	if err != nil {
		return Model{}, Version{}, err
	}
	v, err := r.version(ctx, m, ref)
	return m, v, err
}

// writable resolves ref to a model the caller may change; a readable model
// without write permission is a recorded denial.
func (r *Registry) writable(ctx context.Context, p *access.Principal, ref Ref, action string) (Model, error) {
	m, err := r.find(ctx, p, ref)
	if err != nil {
		return Model{}, err
	}
	if !m.Perms.Write {
		return Model{}, r.denied(ctx, p, action, m, fmt.Sprintf(
			"you may read model %s but not change it: ask its owner %s or an administrator for write permission", ref.Base(), m.Owner))
	}
	return m, nil
}

// target finds the model a new version of ref goes into. It returns
// ok=false, with no error, when registering would create the model.
func (r *Registry) target(ctx context.Context, p *access.Principal, ref Ref) (Model, bool, error) {
	if ref.Version > 0 || ref.Alias != "" {
		return Model{}, false, errdefs.Invalidf("a new version goes into a model, not into %s: use %s", ref, ref.Base())
	}
	m, err := r.writable(ctx, p, ref, "model.version.create")
	if errdefs.IsNotFound(err) {
		return Model{}, false, nil
	}
	return m, err == nil, err
}

// AuthorizeWrite reports whether the caller may register a version into ref
// (it exists and is writable, or registering would create it), so that fit
// can refuse before it starts a container.
func (r *Registry) AuthorizeWrite(ctx context.Context, ref Ref) error {
	p, err := caller(ctx)
	if err != nil {
		return err
	}
	_, exists, err := r.target(ctx, p, ref)
	if err != nil || exists || !ref.AppShared {
		return err
	}
	// Registering would create an app-shared model: that needs write on the app.
	return r.ko.AuthorizeSharing(ctx, p, "model.create", knowledge.Object{Name: ref.Name,
		ACL: access.ACL{Owner: p.User, App: appOf(p), Sharing: access.SharingApp}}, access.SharingApp)
}
