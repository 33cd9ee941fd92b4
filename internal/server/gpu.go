package server

import (
	"github.com/dockyard/dockyard/internal/access"
	"github.com/dockyard/dockyard/internal/api"
	"github.com/dockyard/dockyard/internal/config"
	"github.com/dockyard/dockyard/internal/containers"
	"github.com/dockyard/dockyard/internal/gpu"
	"github.com/dockyard/dockyard/internal/store"
)

// newGPUQuotas builds the GPU quotas, which every container start is
// checked against (containers.gpu.default_quota for users no quota names).
func newGPUQuotas(cfg config.Config, st store.Store, acc *access.Service) (*gpu.Quotas, error) {
	return gpu.NewQuotas(st, acc, cfg.Containers.GPU.DefaultQuota)
}

// newGPU builds the GPU inventory of the runtimes and the containers, and
// the GPU routes (inventory and quotas).
func newGPU(rts runtimes, ctrs *containers.Service, quotas *gpu.Quotas, a *api.API) ([]api.Route, error) {
	inv, err := gpu.NewInventory(rts.byName, ctrs, quotas)
	if err != nil {
		return nil, err
	}
	g := &api.GPUAPI{API: a, Quotas: quotas, Inventory: inv}
	return g.Routes(), nil
}
