package client

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"

	"github.com/dockyard/dockyard/internal/wire"
)

// SaveImage writes the catalogue entry called name as an image archive
// (an OCI image layout in a tar file, with its signatures and scan
// report) to w and returns the bytes written.
func (c *Client) SaveImage(ctx context.Context, name string, w io.Writer) (int64, error) {
	resp, err := c.Raw(ctx, "GET", "/v1/images/"+url.PathEscape(name)+"/archive", nil, "")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	n, err := io.Copy(w, resp.Body)
	if err != nil {
		return n, fmt.Errorf("images save of %s: the download broke off after %d bytes (%w); try again", name, n, err)
	}
	return n, nil
}

// LoadImage uploads an image archive: the server verifies it, pushes it
// to push (HOST[:PORT]/REPO) or, when push is "", loads it into its
// Docker Engine, and adds the entry (called name, or the archive's name).
func (c *Client) LoadImage(ctx context.Context, archive io.Reader, name, push string) (wire.Image, error) {
	q := url.Values{}
	if name != "" {
		q.Set("name", name)
	}
	if push != "" {
		q.Set("push", push)
	}
	p := "/v1/image-archives"
	if len(q) > 0 {
		p += "?" + q.Encode()
	}
	src := &errTrackingReader{r: archive}
	resp, err := c.Raw(ctx, "POST", p, src, "application/x-tar")
	if src.err != nil {
		return wire.Image{}, fmt.Errorf("reading the image archive to upload: %w; nothing was loaded", src.err)
	}
	if err != nil {
		return wire.Image{}, err
	}
	defer resp.Body.Close()
	var out wire.Image
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return out, fmt.Errorf("images load: decoding the answer: %w", err)
	}
	return out, nil
}
