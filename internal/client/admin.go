package client

import (
	"context"
	"io"
	"net/url"

	"github.com/dockyard/dockyard/internal/wire"
)

// AdminGC runs a garbage collection of the blob store now. grace "" uses
// the server's storage.gc_grace; otherwise it is a duration ("0s", "10m").
func (c *Client) AdminGC(ctx context.Context, grace string) (wire.GCResult, error) {
	path := "/v1/admin/gc"
	if grace != "" {
		path += "?grace=" + url.QueryEscape(grace)
	}
	var out wire.GCResult
	return out, c.Do(ctx, "POST", path, nil, &out)
}

// Backup streams an online backup archive (a tar file) into w. A backup
// that fails midway ends in a transport error, and the archive lacks its
// trailer.
func (c *Client) Backup(ctx context.Context, w io.Writer) error {
	resp, err := c.Raw(ctx, "GET", "/v1/admin/backup", nil, "")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, err = io.Copy(w, resp.Body)
	return err
}
