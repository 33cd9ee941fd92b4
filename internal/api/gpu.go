package api

import (
	"net/http"

	"github.com/dockyard/dockyard/internal/access"
	"github.com/dockyard/dockyard/internal/audit"
	"github.com/dockyard/dockyard/internal/containers"
	"github.com/dockyard/dockyard/internal/gpu"
	"github.com/dockyard/dockyard/internal/wire"
)

// GPUAPI serves the GPU inventory (list_mltk_container: the holders are
// those the caller may see) and the GPU quotas (configure_mltk_container).
// A quota change and its audit event commit together.
type GPUAPI struct {
	*API
	Quotas    *gpu.Quotas
	Inventory *gpu.Inventory
}

// Routes lists the GPU routes.
func (g *GPUAPI) Routes() []Route {
	return []Route{
		{Method: "GET", Pattern: "/v1/gpus", Cap: access.CapListContainer, Action: "gpu.list", Handle: g.list},
		{Method: "GET", Pattern: "/v1/gpu/quotas", Cap: access.CapConfigureContainer, Action: "gpu.quota.list", Handle: g.quotas},
		{Method: "PUT", Pattern: "/v1/gpu/quotas/{kind}/{name}", Cap: access.CapConfigureContainer, Action: "gpu.quota.set", Handle: g.set},
		{Method: "DELETE", Pattern: "/v1/gpu/quotas/{kind}/{name}", Cap: access.CapConfigureContainer, Action: "gpu.quota.remove", Handle: g.remove},
	}
}

func (g *GPUAPI) list(w http.ResponseWriter, r *http.Request) error {
	rep, err := g.Inventory.List(r.Context(), access.FromContext(r.Context()))
	if err != nil {
		return err
	}
	out := wire.GPUInventory{Runtimes: []wire.GPURuntime{}, Holders: []wire.GPUHolder{},
		You: wire.GPULimit{User: rep.You.User, Max: rep.You.Max, Source: rep.You.Source, Held: rep.You.Held}}
	for _, rt := range rep.Runtimes {
		x := wire.GPURuntime{Name: rt.Name, Supported: rt.Supported, Pools: []wire.GPUPool{}}
		if rt.Err != nil {
			x.Error = rt.Err.Error()
		}
		for _, p := range rt.Pools {
			x.Pools = append(x.Pools, wire.GPUPool{Node: p.Node, Resource: p.Resource, Capacity: p.Capacity, Allocatable: p.Allocatable, Devices: p.Devices})
		}
		out.Runtimes = append(out.Runtimes, x)
	}
	for _, c := range rep.Holders {
		h := wire.GPUHolder{Container: containers.DisplayName(c), Owner: c.Owner, Runtime: c.Runtime, Status: c.Status, GPUs: c.GPUs, Devices: c.GPUDevices}
		if !c.Started.IsZero() {
			t := c.Started
			h.Started = &t
		}
		out.Holders = append(out.Holders, h)
	}
	return writeJSON(w, http.StatusOK, out)
}

func quotaWire(q gpu.Quota) wire.GPUQuota {
	return wire.GPUQuota{Kind: q.Kind, Name: q.Name, Max: q.Max, UpdatedBy: q.UpdatedBy, Updated: q.Updated}
}

func (g *GPUAPI) quotas(w http.ResponseWriter, r *http.Request) error {
	list, err := g.Quotas.List(r.Context())
	if err != nil {
		return err
	}
	out := make([]wire.GPUQuota, 0, len(list))
	for _, q := range list {
		out = append(out, quotaWire(q))
	}
	return writeJSON(w, http.StatusOK, out)
}

func (g *GPUAPI) set(w http.ResponseWriter, r *http.Request) error {
	var req wire.GPUQuotaSet
	if err := decode(w, r, &req); err != nil {
		return err
	}
	p := access.FromContext(r.Context())
	var q gpu.Quota
	if err := g.changeIn(g.Quotas, r, func(r *http.Request) error {
		var err error
		if q, err = g.Quotas.Set(r.Context(), p.User, r.PathValue("kind"), r.PathValue("name"), req.Max); err != nil {
			return err
		}
		return g.recordErr(r, audit.Event{Action: "gpu.quota.set", Object: "gpu-quota:" + q.Kind + ":" + q.Name, Details: map[string]any{"kind": q.Kind, "name": q.Name, "max": q.Max}})
	}); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, quotaWire(q))
}

func (g *GPUAPI) remove(w http.ResponseWriter, r *http.Request) error {
	var q gpu.Quota
	if err := g.changeIn(g.Quotas, r, func(r *http.Request) error {
		var err error
		if q, err = g.Quotas.Remove(r.Context(), r.PathValue("kind"), r.PathValue("name")); err != nil {
			return err
		}
		return g.recordErr(r, audit.Event{Action: "gpu.quota.remove", Object: "gpu-quota:" + q.Kind + ":" + q.Name, Details: map[string]any{"kind": q.Kind, "name": q.Name, "max": q.Max}})
	}); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, quotaWire(q))
}
