// Package gpu governs GPUs: the quotas that cap how many GPUs each user
// may hold (per user, and per member of a role), the limit every
// container start is checked against (containers.GPUQuotas, inside the
// start's transaction), and the inventory of what each runtime can give
// and who holds what.
//
// The rules:
//   - A user's limit is their user quota when one is set, else the largest
//     quota of the roles they hold (directly or through inheritance), else
//     containers.gpu.default_quota (default 0: no GPUs until an
//     administrator sets a quota; -1: no limit but the hardware's).
//   - A role quota caps each member on their own, not the members together.
//   - GPUs are held by a container that should run and runs or is being
//     started (containers.HoldsGPUs), counted against its owner.
//   - use_gpu is still needed by whoever starts a container with GPUs.
package gpu

import (
	"context"
	"fmt"
	"time"

	"github.com/dockyard/dockyard/internal/access"
	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/store"
)

// Quota is a GPU quota (the store's record).
type Quota = store.GPUQuota

// The kinds of quota.
const (
	KindUser = store.GPUQuotaUser
	KindRole = store.GPUQuotaRole
)

// DefaultQuotaSetting names the setting of the limit of users without a
// quota, for messages.
const DefaultQuotaSetting = "containers.gpu.default_quota"

// Directory finds users and roles (*access.Service).
type Directory interface {
	GetUser(ctx context.Context, name string) (store.User, error)
	GetRole(ctx context.Context, name string) (store.Role, error)
	EffectivePrincipal(ctx context.Context, user, app string) (*access.Principal, error)
}

// Quotas keeps the GPU quotas and decides each user's limit.
type Quotas struct {
	st           store.GPUQuotaStore
	dir          Directory
	defaultQuota int
	now          func() time.Time
}

// NewQuotas returns the quotas kept in st, for the users and roles of dir;
// defaultQuota is the limit of a user no quota names (-1: none).
func NewQuotas(st store.GPUQuotaStore, dir Directory, defaultQuota int) (*Quotas, error) {
	if st == nil || dir == nil {
		return nil, errdefs.Invalid("gpu: a store and a directory are required")
	}
	if defaultQuota < -1 {
		return nil, errdefs.Invalidf("%s is %d: give 0 or more, or -1 for no limit", DefaultQuotaSetting, defaultQuota)
	}
	return &Quotas{st: st, dir: dir, defaultQuota: defaultQuota, now: func() time.Time { return time.Now().UTC() }}, nil
}

// InTx runs fn in a transaction of the quotas' store (a change and its
// audit event).
func (q *Quotas) InTx(ctx context.Context, fn func(ctx context.Context) error) error {
	return q.st.InTx(ctx, fn)
}

func checkKind(kind string) error {
	if kind != KindUser && kind != KindRole {
		return errdefs.Invalidf("GPU quota kind %q: give user or role", kind)
	}
	return nil
}

// Set sets the quota of the user or role (kind) name to max GPUs, by user
// by. The user or role must exist.
func (q *Quotas) Set(ctx context.Context, by, kind, name string, max int) (Quota, error) {
	if err := checkKind(kind); err != nil {
		return Quota{}, err
	}
	if max < 0 {
		return Quota{}, errdefs.Invalidf("GPU quota %d: give 0 or more GPUs (0: none; remove the quota to fall back to the roles' or the default)", max)
	}
	if err := q.exists(ctx, kind, name); err != nil {
		return Quota{}, err
	}
	rec := Quota{Kind: kind, Name: name, Max: max, UpdatedBy: by, Updated: q.now()}
	if err := q.st.PutGPUQuota(ctx, rec); err != nil {
		return Quota{}, err
	}
	return rec, nil
}

func (q *Quotas) exists(ctx context.Context, kind, name string) error {
	var err error
	if kind == KindUser {
		_, err = q.dir.GetUser(ctx, name)
	} else {
		_, err = q.dir.GetRole(ctx, name)
	}
	if errdefs.IsNotFound(err) {
		return errdefs.NotFoundf("no %s %q: list them with `dockyard %ss list`", kind, name, kind)
	}
	return err
}

// Remove removes the quota of the user or role (kind) name and returns it.
func (q *Quotas) Remove(ctx context.Context, kind, name string) (Quota, error) {
	if err := checkKind(kind); err != nil {
		return Quota{}, err
	}
	all, err := q.st.ListGPUQuotas(ctx)
	if err != nil {
		return Quota{}, err
	}
	for _, x := range all {
		if x.Kind == kind && x.Name == name {
			return x, q.st.DeleteGPUQuota(ctx, kind, name)
		}
	}
	return Quota{}, errdefs.NotFoundf("no GPU quota for %s %q: list them with `dockyard gpu quota list`", kind, name)
}

// List returns every quota, by kind then name.
func (q *Quotas) List(ctx context.Context) ([]Quota, error) {
	return q.st.ListGPUQuotas(ctx)
}

// GPULimit implements containers.GPUQuotas: the user quota, else the
// largest quota of the user's roles, else the default; with the rule that
// decided it in words. A user who no longer exists has no roles.
func (q *Quotas) GPULimit(ctx context.Context, user string) (int, string, error) {
	all, err := q.st.ListGPUQuotas(ctx)
	if err != nil {
		return 0, "", err
	}
	roles := map[string]int{}
	for _, x := range all {
		if x.Kind == KindUser && x.Name == user {
			return x.Max, "the quota of user " + user, nil
		}
		if x.Kind == KindRole {
			roles[x.Name] = x.Max
		}
	}
	best, from := -1, ""
	if len(roles) > 0 {
		p, err := q.dir.EffectivePrincipal(ctx, user, "")
		if err != nil && !errdefs.IsNotFound(err) {
			return 0, "", fmt.Errorf("the roles of %q: %w", user, err)
		}
		if p != nil {
			for _, r := range p.Roles {
				if n, ok := roles[r]; ok && n > best {
					best, from = n, r
				}
			}
		}
	}
	if from != "" {
		return best, "the quota of role " + from + ", the largest of " + user + "'s roles", nil
	}
	if q.defaultQuota < 0 {
		return -1, DefaultQuotaSetting + " is -1: no limit", nil
	}
	return q.defaultQuota, fmt.Sprintf("no quota names %s or their roles, and %s is %d", user, DefaultQuotaSetting, q.defaultQuota), nil
}
