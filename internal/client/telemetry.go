package client

import (
	"context"
	"io"

	"github.com/dockyard/dockyard/internal/wire"
)

// Observability returns the trace-export settings (never the token).
func (c *Client) Observability(ctx context.Context) (wire.ObservabilitySettings, error) {
	var out wire.ObservabilitySettings
	return out, c.Do(ctx, "GET", "/v1/settings/observability", nil, &out)
}

// SetObservability changes the trace-export settings; nil fields keep
// their value.
func (c *Client) SetObservability(ctx context.Context, u wire.ObservabilityUpdate) (wire.ObservabilitySettings, error) {
	var out wire.ObservabilitySettings
	return out, c.Do(ctx, "PUT", "/v1/settings/observability", u, &out)
}

// Metrics returns the server's Prometheus metrics in the text exposition
// format.
func (c *Client) Metrics(ctx context.Context) (string, error) {
	resp, err := c.Raw(ctx, "GET", "/metrics", nil, "")
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}
