package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"strconv"

	"github.com/dockyard/dockyard/internal/wire"
)

// PushNotebook stores content (format "ipynb" or "py") as the notebook
// name's next version when it changed. sharing applies when the push
// creates the notebook ("" keeps it private).
func (c *Client) PushNotebook(ctx context.Context, name, format, sharing string, content []byte) (wire.NotebookPush, error) {
	q := url.Values{"format": {format}}
	if sharing != "" {
		q.Set("sharing", sharing)
	}
	resp, err := c.Raw(ctx, "PUT", "/v1/notebooks/"+url.PathEscape(name)+"?"+q.Encode(), bytes.NewReader(content), "application/octet-stream")
	if err != nil {
		return wire.NotebookPush{}, err
	}
	defer resp.Body.Close()
	var out wire.NotebookPush
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return out, fmt.Errorf("notebook push: decoding the answer: %w", err)
	}
	return out, nil
}

// Notebooks lists the notebooks the caller may read.
func (c *Client) Notebooks(ctx context.Context) ([]wire.Notebook, error) {
	var out []wire.Notebook
	return out, c.Do(ctx, "GET", "/v1/notebooks", nil, &out)
}

// Notebook returns one notebook with its newest version.
func (c *Client) Notebook(ctx context.Context, name string) (wire.Notebook, error) {
	var out wire.Notebook
	return out, c.Do(ctx, "GET", "/v1/notebooks/"+url.PathEscape(name), nil, &out)
}

// NotebookHistory lists a notebook's versions, oldest first.
func (c *Client) NotebookHistory(ctx context.Context, name string) ([]wire.NotebookVersion, error) {
	var out []wire.NotebookVersion
	return out, c.Do(ctx, "GET", "/v1/notebooks/"+url.PathEscape(name)+"/history", nil, &out)
}

// NotebookContent returns the bytes of a version (0: the newest) and its
// number.
func (c *Client) NotebookContent(ctx context.Context, name string, version int) ([]byte, int, error) {
	p := "/v1/notebooks/" + url.PathEscape(name) + "/content"
	if version > 0 {
		p += "?version=" + strconv.Itoa(version)
	}
	resp, err := c.Raw(ctx, "GET", p, nil, "")
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, 0, err
	}
	v, _ := strconv.Atoi(resp.Header.Get("Dockyard-Notebook-Version"))
	return b, v, nil
}

// ShareNotebook changes a notebook's sharing ("user", "app" or "global")
// and its read and write roles (nil: none); its owner or an administrator
// may.
func (c *Client) ShareNotebook(ctx context.Context, name, sharing string, read, write []string) (wire.Notebook, error) {
	var out wire.Notebook
	body := wire.LookupShare{Sharing: sharing, Read: read, Write: write}
	return out, c.Do(ctx, "POST", "/v1/notebooks/"+url.PathEscape(name)+"/share", body, &out)
}

// DeleteNotebook deletes a notebook and its version history; it needs
// write permission.
func (c *Client) DeleteNotebook(ctx context.Context, name string) error {
	return c.Do(ctx, "DELETE", "/v1/notebooks/"+url.PathEscape(name), nil, nil)
}
