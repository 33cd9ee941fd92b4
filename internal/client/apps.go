package client

import (
	"context"
	"net/url"

	"github.com/dockyard/dockyard/internal/wire"
)

// Apps lists the apps the caller may read.
func (c *Client) Apps(ctx context.Context) ([]wire.App, error) {
	var out []wire.App
	return out, c.Do(ctx, "GET", "/v1/apps", nil, &out)
}

// App shows one app; an app the caller may not read is not found.
func (c *Client) App(ctx context.Context, name string) (wire.App, error) {
	var out wire.App
	return out, c.Do(ctx, "GET", "/v1/apps/"+url.PathEscape(name), nil, &out)
}

// CreateApp creates an app.
func (c *Client) CreateApp(ctx context.Context, req wire.AppRequest) (wire.App, error) {
	var out wire.App
	return out, c.Do(ctx, "POST", "/v1/apps", req, &out)
}

// UpdateApp changes an app's read or write roles.
func (c *Client) UpdateApp(ctx context.Context, name string, req wire.AppRequest) (wire.App, error) {
	var out wire.App
	return out, c.Do(ctx, "PATCH", "/v1/apps/"+url.PathEscape(name), req, &out)
}

// DeleteApp deletes an app in which no object lives.
func (c *Client) DeleteApp(ctx context.Context, name string) error {
	return c.Do(ctx, "DELETE", "/v1/apps/"+url.PathEscape(name), nil, nil)
}
