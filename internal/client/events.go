package client

import (
	"context"
	"io"
	"net/url"

	"github.com/dockyard/dockyard/internal/wire"
)

// AuditVerify asks the server to walk its stored audit chain. A broken
// chain is an answer with OK false (and the first bad event), not an error.
func (c *Client) AuditVerify(ctx context.Context) (wire.AuditVerify, error) {
	var out wire.AuditVerify
	return out, c.Do(ctx, "GET", "/v1/audit/verify", nil, &out)
}

// AuditExport streams the audit chain as JSON lines into w.
func (c *Client) AuditExport(ctx context.Context, w io.Writer) error {
	resp, err := c.Raw(ctx, "GET", "/v1/audit/export", nil, "")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, err = io.Copy(w, resp.Body)
	return err
}

// AuditKey returns the PEM of the public key that verifies the audit
// chain's checkpoints and its exports.
func (c *Client) AuditKey(ctx context.Context) ([]byte, error) {
	resp, err := c.Raw(ctx, "GET", "/v1/audit/key", nil, "")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	return io.ReadAll(io.LimitReader(resp.Body, 64<<10))
}

// CreateHECToken creates a HEC token; the answer holds its secret, once.
func (c *Client) CreateHECToken(ctx context.Context, req wire.HECTokenRequest) (wire.NewHECToken, error) {
	var out wire.NewHECToken
	return out, c.Do(ctx, "POST", "/v1/hec/tokens", req, &out)
}

// HECTokens lists HEC tokens (never their secrets).
func (c *Client) HECTokens(ctx context.Context) ([]wire.HECToken, error) {
	var out []wire.HECToken
	return out, c.Do(ctx, "GET", "/v1/hec/tokens", nil, &out)
}

// DeleteHECToken deletes a HEC token; its secret stops working at once.
func (c *Client) DeleteHECToken(ctx context.Context, name string) error {
	return c.Do(ctx, "DELETE", "/v1/hec/tokens/"+url.PathEscape(name), nil, nil)
}

// SetHECTokenDisabled disables or re-enables a HEC token.
func (c *Client) SetHECTokenDisabled(ctx context.Context, name string, disabled bool) error {
	verb := "enable"
	if disabled {
		verb = "disable"
	}
	return c.Do(ctx, "POST", "/v1/hec/tokens/"+url.PathEscape(name)+"/"+verb, nil, nil)
}

// Indexes lists the event indexes the caller may search.
func (c *Client) Indexes(ctx context.Context) ([]wire.Index, error) {
	var out []wire.Index
	return out, c.Do(ctx, "GET", "/v1/indexes", nil, &out)
}

// CreateIndex creates an event index.
func (c *Client) CreateIndex(ctx context.Context, name string) (wire.Index, error) {
	var out wire.Index
	return out, c.Do(ctx, "POST", "/v1/indexes", wire.IndexRequest{Name: name}, &out)
}

// DeleteIndex deletes an event index and its events.
func (c *Client) DeleteIndex(ctx context.Context, name string) error {
	return c.Do(ctx, "DELETE", "/v1/indexes/"+url.PathEscape(name), nil, nil)
}
