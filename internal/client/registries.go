package client

import (
	"context"
	"net/url"

	"github.com/dockyard/dockyard/internal/wire"
)

// Registries lists the private registries (never a password).
func (c *Client) Registries(ctx context.Context) ([]wire.Registry, error) {
	var out []wire.Registry
	return out, c.Do(ctx, "GET", "/v1/registries", nil, &out)
}

// AddRegistry adds a private registry with the CA that verifies it.
func (c *Client) AddRegistry(ctx context.Context, req wire.RegistryAdd) (wire.Registry, error) {
	var out wire.Registry
	return out, c.Do(ctx, "POST", "/v1/registries", req, &out)
}

// LoginRegistry stores credentials for a registry.
func (c *Client) LoginRegistry(ctx context.Context, host string, req wire.RegistryLogin) (wire.Registry, error) {
	var out wire.Registry
	return out, c.Do(ctx, "POST", "/v1/registries/"+url.PathEscape(host)+"/login", req, &out)
}

// RemoveRegistry forgets a registry and its credentials.
func (c *Client) RemoveRegistry(ctx context.Context, host string) error {
	return c.Do(ctx, "DELETE", "/v1/registries/"+url.PathEscape(host), nil, nil)
}
