package gpu

import (
	"context"
	"sort"

	"github.com/dockyard/dockyard/internal/access"
	"github.com/dockyard/dockyard/internal/containers"
	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/runtime"
)

// Holders lists the container records a principal may see
// (*containers.Service).
type Holders interface {
	ListFor(ctx context.Context, p *access.Principal) ([]containers.Container, error)
}

// RuntimeGPUs is what one runtime can give in GPUs.
type RuntimeGPUs struct {
	Name string
	// Supported: the runtime implements runtime.GPUInventory (the process
	// runtime does not: it gives no GPUs).
	Supported bool
	Pools     []runtime.GPUPool
	// Err is why the pools could not be read.
	Err error
}

// Limit is a user's GPU limit (-1: none), the rule that decides it, and
// what they hold.
type Limit struct {
	User   string
	Max    int
	Source string
	Held   int
}

// Report is `dockyard gpu list`: each runtime's pools, the containers
// that hold GPUs among those the caller may see, and the caller's limit.
type Report struct {
	Runtimes []RuntimeGPUs
	Holders  []containers.Container
	You      Limit
}

// Inventory reports the GPUs of the runtimes and who holds them.
type Inventory struct {
	rts    map[string]runtime.Runtime
	ctrs   Holders
	quotas *Quotas
}

// NewInventory returns the inventory of rts, with the holders ctrs lists
// and the limits of quotas.
func NewInventory(rts map[string]runtime.Runtime, ctrs Holders, quotas *Quotas) (*Inventory, error) {
	if ctrs == nil || quotas == nil {
		return nil, errdefs.Invalid("gpu: an inventory needs the containers and the quotas")
	}
	return &Inventory{rts: rts, ctrs: ctrs, quotas: quotas}, nil
}

// List reports, for p, the pools of every runtime (a runtime that cannot
// be read is reported with its error, not dropped), the containers p may
// see that hold GPUs, and p's own limit.
func (v *Inventory) List(ctx context.Context, p *access.Principal) (Report, error) {
	var rep Report
	names := make([]string, 0, len(v.rts))
	for n := range v.rts {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		r := RuntimeGPUs{Name: n}
		if inv, ok := v.rts[n].(runtime.GPUInventory); ok {
			r.Supported = true
			r.Pools, r.Err = inv.GPUs(ctx)
		}
		rep.Runtimes = append(rep.Runtimes, r)
	}
	cs, err := v.ctrs.ListFor(ctx, p)
	if err != nil {
		return rep, err
	}
	rep.You.User = p.User
	for _, c := range cs {
		if !containers.HoldsGPUs(c) {
			continue
		}
		rep.Holders = append(rep.Holders, c)
		if c.Owner == p.User {
			rep.You.Held += c.GPUs
		}
	}
	sort.SliceStable(rep.Holders, func(i, j int) bool {
		a, b := rep.Holders[i], rep.Holders[j]
		if a.Owner != b.Owner {
			return a.Owner < b.Owner
		}
		return a.Name < b.Name
	})
	rep.You.Max, rep.You.Source, err = v.quotas.GPULimit(ctx, p.User)
	return rep, err
}
