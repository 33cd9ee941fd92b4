package client

import (
	"context"
	"io"
	"net/url"

	"github.com/dockyard/dockyard/internal/wire"
)

// ImportSignedModelTar registers an archive as ImportModelTar does, and
// refuses it unless it is signed by the server's own key or a trusted
// key of another site.
func (c *Client) ImportSignedModelTar(ctx context.Context, ref, algo string, archive io.Reader) (wire.ModelVersion, error) {
	return c.importModel(ctx, ref, algo, "archive", archive, url.Values{"require_signature": {"true"}})
}

// ServerModelKey is the public key that signs the server's model exports.
func (c *Client) ServerModelKey(ctx context.Context) (wire.SigningKey, error) {
	var out wire.SigningKey
	return out, c.Do(ctx, "GET", "/v1/model-keys/server", nil, &out)
}

// ModelKeys lists the keys of other sites whose signed archives the
// server trusts.
func (c *Client) ModelKeys(ctx context.Context) ([]wire.SigningKey, error) {
	var out []wire.SigningKey
	return out, c.Do(ctx, "GET", "/v1/model-keys", nil, &out)
}

// TrustModelKey trusts another site's public key (PEM) under a name.
func (c *Client) TrustModelKey(ctx context.Context, name, pem string) (wire.SigningKey, error) {
	var out wire.SigningKey
	return out, c.Do(ctx, "POST", "/v1/model-keys", wire.SigningKeyAdd{Name: name, PEM: pem}, &out)
}

// RemoveModelKey stops trusting another site's key.
func (c *Client) RemoveModelKey(ctx context.Context, name string) error {
	return c.Do(ctx, "DELETE", "/v1/model-keys/"+url.PathEscape(name), nil, nil)
}
