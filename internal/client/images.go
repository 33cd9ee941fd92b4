package client

import (
	"context"
	"net/url"

	"github.com/dockyard/dockyard/internal/wire"
)

// Images lists the image catalogue.
func (c *Client) Images(ctx context.Context) ([]wire.Image, error) {
	var out []wire.Image
	return out, c.Do(ctx, "GET", "/v1/images", nil, &out)
}

// Image shows one catalogue entry.
func (c *Client) Image(ctx context.Context, name string) (wire.Image, error) {
	var out wire.Image
	return out, c.Do(ctx, "GET", "/v1/images/"+url.PathEscape(name), nil, &out)
}

// AddImage adds a catalogue entry, pinned to the digest its reference
// names now.
func (c *Client) AddImage(ctx context.Context, req wire.ImageAdd) (wire.Image, error) {
	var out wire.Image
	return out, c.Do(ctx, "POST", "/v1/images", req, &out)
}

// UpdateImage changes an entry and re-pins it.
func (c *Client) UpdateImage(ctx context.Context, name string, req wire.ImageUpdate) (wire.Image, error) {
	var out wire.Image
	return out, c.Do(ctx, "PATCH", "/v1/images/"+url.PathEscape(name), req, &out)
}

// RemoveImage removes a catalogue entry.
func (c *Client) RemoveImage(ctx context.Context, name string) error {
	return c.Do(ctx, "DELETE", "/v1/images/"+url.PathEscape(name), nil, nil)
}

// ImportScan imports a scan report for a catalogue entry.
func (c *Client) ImportScan(ctx context.Context, name string, report []byte) (wire.ImageScan, error) {
	var out wire.ImageScan
	return out, c.Do(ctx, "POST", "/v1/images/"+url.PathEscape(name)+"/scans", wire.ScanImport{Report: report}, &out)
}

// AllowCVE lets a CVE of an image pass the policy until a time.
func (c *Client) AllowCVE(ctx context.Context, name string, req wire.ImageException) (wire.ImageException, error) {
	var out wire.ImageException
	return out, c.Do(ctx, "POST", "/v1/images/"+url.PathEscape(name)+"/exceptions", req, &out)
}

// ImagePolicy shows the image policy.
func (c *Client) ImagePolicy(ctx context.Context) (wire.ImagePolicy, error) {
	var out wire.ImagePolicy
	return out, c.Do(ctx, "GET", "/v1/image-policy", nil, &out)
}

// SetImagePolicy changes the given fields of the image policy.
func (c *Client) SetImagePolicy(ctx context.Context, req wire.ImagePolicyUpdate) (wire.ImagePolicy, error) {
	var out wire.ImagePolicy
	return out, c.Do(ctx, "PATCH", "/v1/image-policy", req, &out)
}

// ImageExceptions lists the CVE exceptions of an image, expired ones too.
func (c *Client) ImageExceptions(ctx context.Context, name string) ([]wire.ImageException, error) {
	var out []wire.ImageException
	return out, c.Do(ctx, "GET", "/v1/images/"+url.PathEscape(name)+"/exceptions", nil, &out)
}

// RemoveImageException removes the exception for a CVE of an image and
// returns it.
func (c *Client) RemoveImageException(ctx context.Context, name, cve string) (wire.ImageException, error) {
	var out wire.ImageException
	return out, c.Do(ctx, "DELETE", "/v1/images/"+url.PathEscape(name)+"/exceptions/"+url.PathEscape(cve), nil, &out)
}
