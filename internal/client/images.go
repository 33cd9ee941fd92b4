package client

import (
	"context"

	"github.com/dockyard/dockyard/internal/wire"
)

// Images lists the image catalogue.
func (c *Client) Images(ctx context.Context) ([]wire.Image, error) {
	var out []wire.Image
	return out, c.Do(ctx, "GET", "/v1/images", nil, &out)
}
