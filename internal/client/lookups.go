package client

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"

	"github.com/dockyard/dockyard/internal/wire"
)

// UploadLookup streams a CSV table from r as the lookup name (NAME.csv).
// A malformed table is an errdefs.ErrInvalid error naming the line.
func (c *Client) UploadLookup(ctx context.Context, name string, r io.Reader) (wire.Lookup, error) {
	q := url.Values{"name": {name}}
	resp, err := c.Raw(ctx, "POST", "/v1/lookups?"+q.Encode(), r, "text/csv")
	if err != nil {
		return wire.Lookup{}, err
	}
	defer resp.Body.Close()
	var out wire.Lookup
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return out, fmt.Errorf("lookup upload: decoding the answer: %w", err)
	}
	return out, nil
}

// Lookups lists the lookups the caller may read.
func (c *Client) Lookups(ctx context.Context) ([]wire.Lookup, error) {
	var out []wire.Lookup
	return out, c.Do(ctx, "GET", "/v1/lookups", nil, &out)
}

// Lookup returns the metadata of the lookup name resolves to.
func (c *Client) Lookup(ctx context.Context, name string) (wire.Lookup, error) {
	var out wire.Lookup
	return out, c.Do(ctx, "GET", "/v1/lookups/"+url.PathEscape(name)+"/info", nil, &out)
}

// LookupContent returns the CSV content of a lookup; the caller closes it.
func (c *Client) LookupContent(ctx context.Context, name string) (io.ReadCloser, error) {
	resp, err := c.Raw(ctx, "GET", "/v1/lookups/"+url.PathEscape(name), nil, "")
	if err != nil {
		return nil, err
	}
	return resp.Body, nil
}

// DeleteLookup deletes a lookup.
func (c *Client) DeleteLookup(ctx context.Context, name string) error {
	return c.Do(ctx, "DELETE", "/v1/lookups/"+url.PathEscape(name), nil, nil)
}

// ShareLookup changes a lookup's sharing and read and write roles.
func (c *Client) ShareLookup(ctx context.Context, name string, s wire.LookupShare) (wire.Lookup, error) {
	var out wire.Lookup
	return out, c.Do(ctx, "POST", "/v1/lookups/"+url.PathEscape(name)+"/share", s, &out)
}
