package models

import (
	"context"
	"fmt"

	"github.com/dockyard/dockyard/internal/audit"
	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/store"
)

func toMove(mv store.AliasMove) AliasMove {
	return AliasMove{Alias: mv.Alias, From: mv.From, To: mv.To, User: mv.User, Time: mv.At, Reason: mv.Reason}
}

// SetAlias points alias of the model ref names at version (write
// permission) and records the move with reason.
func (r *Registry) SetAlias(ctx context.Context, ref Ref, alias string, version int, reason string) (AliasMove, error) {
	return r.moveAlias(ctx, ref, alias, version, reason, "model.alias.set")
}

// Rollback moves the "current" alias of the model ref names back (or
// forward) to version to.
func (r *Registry) Rollback(ctx context.Context, ref Ref, to int, reason string) (AliasMove, error) {
	if reason == "" {
		reason = "rollback"
	}
	return r.moveAlias(ctx, ref, AliasCurrent, to, reason, "model.rollback")
}

func (r *Registry) moveAlias(ctx context.Context, ref Ref, alias string, version int, reason, action string) (AliasMove, error) {
	return store.Run(ctx, r.st, func(ctx context.Context) (AliasMove, error) {
		return r.moveAliasTx(ctx, ref, alias, version, reason, action)
	})
}

// moveAliasTx is moveAlias inside the store transaction of ctx.
func (r *Registry) moveAliasTx(ctx context.Context, ref Ref, alias string, version int, reason, action string) (AliasMove, error) {
	p, err := caller(ctx)
	if err != nil {
		return AliasMove{}, err
	}
	if err := ref.unversioned("moving an alias"); err != nil {
		return AliasMove{}, err
	}
	if err := ValidateAlias(alias); err != nil {
		return AliasMove{}, err
	}
	if version <= 0 {
		return AliasMove{}, errdefs.Invalidf("version %d is not valid: versions are numbered from 1", version)
	}
	m, err := r.writable(ctx, p, ref, action)
	if err != nil {
		return AliasMove{}, err
	}
	mv, err := r.st.SetModelAlias(ctx, m.id, alias, version, p.User, reason, r.now())
	if errdefs.IsNotFound(err) {
		return AliasMove{}, errdefs.NotFoundf("model %s has no version %d; list them with models versions", ref.Base(), version)
	}
	if err != nil {
		return AliasMove{}, fmt.Errorf("model %s: alias %s: %w", ref.Base(), alias, err)
	}
	r.record(ctx, p, action, m, audit.ResultSuccess, reason, map[string]any{"alias": alias, "from": mv.From, "to": mv.To})
	return toMove(mv), nil
}

// RemoveAlias removes an alias other than "current" (write permission).
// The version it pointed at becomes subject to retention again.
func (r *Registry) RemoveAlias(ctx context.Context, ref Ref, alias, reason string) (AliasMove, error) {
	return store.Run(ctx, r.st, func(ctx context.Context) (AliasMove, error) { return r.removeAliasTx(ctx, ref, alias, reason) })
}

// removeAliasTx is RemoveAlias inside the store transaction of ctx.
func (r *Registry) removeAliasTx(ctx context.Context, ref Ref, alias, reason string) (AliasMove, error) {
	p, err := caller(ctx)
	if err != nil {
		return AliasMove{}, err
	}
	if err := ref.unversioned("removing an alias"); err != nil {
		return AliasMove{}, err
	}
	if alias == AliasCurrent {
		return AliasMove{}, errdefs.Invalid("the current alias cannot be removed; move it with models rollback")
	}
	m, err := r.writable(ctx, p, ref, "model.alias.delete")
	if err != nil {
		return AliasMove{}, err
	}
	mv, err := r.st.DeleteModelAlias(ctx, m.id, alias, p.User, reason, r.now())
	if errdefs.IsNotFound(err) {
		return AliasMove{}, errdefs.NotFoundf("model %s has no alias %q", ref.Base(), alias)
	}
	if err != nil {
		return AliasMove{}, err
	}
	r.record(ctx, p, "model.alias.delete", m, audit.ResultSuccess, reason, map[string]any{"alias": alias, "from": mv.From})
	return toMove(mv), nil
}

// History returns every alias move of the model ref names, oldest first.
func (r *Registry) History(ctx context.Context, ref Ref) ([]AliasMove, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	m, err := r.find(ctx, p, ref)
	if err != nil {
		return nil, err
	}
	mvs, err := r.st.ListModelAliasHistory(ctx, m.id)
	if err != nil {
		return nil, err
	}
	out := make([]AliasMove, 0, len(mvs))
	for _, mv := range mvs {
		out = append(out, toMove(mv))
	}
	return out, nil
}

// Prune applies retention to the model ref names now (write permission)
// and returns the removed version numbers.
func (r *Registry) Prune(ctx context.Context, ref Ref) ([]int, error) {
	return store.Run(ctx, r.st, func(ctx context.Context) ([]int, error) { return r.pruneTx(ctx, ref) })
}

// pruneTx is Prune inside the store transaction of ctx.
func (r *Registry) pruneTx(ctx context.Context, ref Ref) ([]int, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	m, err := r.writable(ctx, p, ref, "model.version.prune")
	if err != nil {
		return nil, err
	}
	pruned, err := r.st.PruneModelVersions(ctx, m.id, r.opts.KeepVersions)
	if err != nil {
		return nil, err
	}
	if len(pruned) > 0 {
		r.record(ctx, p, "model.version.prune", m, audit.ResultSuccess, "", map[string]any{"versions": pruned, "keep": r.opts.KeepVersions})
	}
	return pruned, nil
}
