package client

import (
	"context"
	"net/url"

	"github.com/dockyard/dockyard/internal/wire"
)

// GPUs returns the GPU inventory: each runtime's pools, the containers
// that hold GPUs among those the caller may see, and the caller's limit.
func (c *Client) GPUs(ctx context.Context) (wire.GPUInventory, error) {
	var out wire.GPUInventory
	return out, c.Do(ctx, "GET", "/v1/gpus", nil, &out)
}

// GPUQuotas lists the GPU quotas.
func (c *Client) GPUQuotas(ctx context.Context) ([]wire.GPUQuota, error) {
	var out []wire.GPUQuota
	return out, c.Do(ctx, "GET", "/v1/gpu/quotas", nil, &out)
}

func gpuQuotaPath(kind, name string) string {
	return "/v1/gpu/quotas/" + url.PathEscape(kind) + "/" + url.PathEscape(name)
}

// SetGPUQuota sets the quota of the user or role (kind "user" or "role")
// name to max GPUs.
func (c *Client) SetGPUQuota(ctx context.Context, kind, name string, max int) (wire.GPUQuota, error) {
	var out wire.GPUQuota
	return out, c.Do(ctx, "PUT", gpuQuotaPath(kind, name), wire.GPUQuotaSet{Max: max}, &out)
}

// RemoveGPUQuota removes the quota of the user or role name.
func (c *Client) RemoveGPUQuota(ctx context.Context, kind, name string) error {
	return c.Do(ctx, "DELETE", gpuQuotaPath(kind, name), nil, nil)
}
