package client

import (
	"context"
	"io"
	"net/url"
	"time"

	"github.com/dockyard/dockyard/internal/wire"
)

// Containers lists the containers the caller may see: their own, those
// shared with one of their roles, every one for administrators (needs
// list_mltk_container).
func (c *Client) Containers(ctx context.Context) ([]wire.Container, error) {
	var out []wire.Container
	return out, c.Do(ctx, "GET", "/v1/containers", nil, &out)
}

// StartContainer starts a container (needs control_mltk_container).
func (c *Client) StartContainer(ctx context.Context, name string, req wire.ContainerStart) (wire.Container, error) {
	var out wire.Container
	return out, c.Do(ctx, "POST", "/v1/containers/"+url.PathEscape(name)+"/start", req, &out)
}

// StopContainer stops a container (needs control_mltk_container).
func (c *Client) StopContainer(ctx context.Context, name string) (wire.Container, error) {
	return c.StopContainerWith(ctx, name, false)
}

// StopContainerWith stops a container; with force it is stopped even when
// its final notebook sync fails (its unsaved edits are lost).
func (c *Client) StopContainerWith(ctx context.Context, name string, force bool) (wire.Container, error) {
	var out wire.Container
	return out, c.Do(ctx, "POST", "/v1/containers/"+url.PathEscape(name)+"/stop"+forceQuery(force), struct{}{}, &out)
}

func forceQuery(force bool) string {
	if force {
		return "?force=true"
	}
	return ""
}

// RemoveContainer stops a container and deletes it with its record.
func (c *Client) RemoveContainer(ctx context.Context, name string) error {
	return c.RemoveContainerWith(ctx, name, false)
}

// RemoveContainerWith removes a container; with force even when its final
// notebook sync fails (its unsaved edits are lost).
func (c *Client) RemoveContainerWith(ctx context.Context, name string, force bool) error {
	return c.Do(ctx, "DELETE", "/v1/containers/"+url.PathEscape(name)+forceQuery(force), nil, nil)
}

// RegisterContainer registers an external container API endpoint (needs
// configure_mltk_container).
func (c *Client) RegisterContainer(ctx context.Context, name string, req wire.ContainerRegister) (wire.Container, error) {
	var out wire.Container
	return out, c.Do(ctx, "POST", "/v1/containers/"+url.PathEscape(name)+"/register", req, &out)
}

// ContainerLogs streams a container's output written at or after since
// (zero: all of it). The caller closes it.
func (c *Client) ContainerLogs(ctx context.Context, name string, since time.Time) (io.ReadCloser, error) {
	p := "/v1/containers/" + url.PathEscape(name) + "/logs"
	if !since.IsZero() {
		p += "?since=" + url.QueryEscape(since.UTC().Format(time.RFC3339))
	}
	resp, err := c.Raw(ctx, "GET", p, nil, "")
	if err != nil {
		return nil, err
	}
	return resp.Body, nil
}

// ShareContainer sets the roles a container is shared with (none:
// unshared); only its owner or an administrator may.
func (c *Client) ShareContainer(ctx context.Context, name string, roles []string) (wire.Container, error) {
	var out wire.Container
	if roles == nil {
		roles = []string{}
	}
	return out, c.Do(ctx, "POST", "/v1/containers/"+url.PathEscape(name)+"/share", wire.ContainerShare{Roles: roles}, &out)
}
