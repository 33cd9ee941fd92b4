package client

import (
	"context"
	"net/url"

	"github.com/dockyard/dockyard/internal/wire"
)

// ImageKeys lists the public keys image signatures are verified with.
func (c *Client) ImageKeys(ctx context.Context) ([]wire.SigningKey, error) {
	var out []wire.SigningKey
	return out, c.Do(ctx, "GET", "/v1/image-keys", nil, &out)
}

// AddImageKey trusts a public key (PEM) for image signatures.
func (c *Client) AddImageKey(ctx context.Context, name, pem string) (wire.SigningKey, error) {
	var out wire.SigningKey
	return out, c.Do(ctx, "POST", "/v1/image-keys", wire.SigningKeyAdd{Name: name, PEM: pem}, &out)
}

// RemoveImageKey stops trusting an image signing key.
func (c *Client) RemoveImageKey(ctx context.Context, name string) error {
	return c.Do(ctx, "DELETE", "/v1/image-keys/"+url.PathEscape(name), nil, nil)
}

// AddImageSignature stores a signature of an entry's pinned digest.
func (c *Client) AddImageSignature(ctx context.Context, name string, req wire.ImageSignatureAdd) (wire.ImageSignature, error) {
	var out wire.ImageSignature
	return out, c.Do(ctx, "POST", "/v1/images/"+url.PathEscape(name)+"/signatures", req, &out)
}
