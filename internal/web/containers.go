package web

import (
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/dockyard/dockyard/internal/access"
	"github.com/dockyard/dockyard/internal/api"
	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/wire"
)

func (c *Console) containerRoutes() []api.Route {
	return []api.Route{
		page("GET", "/containers", access.CapListContainer, "container.list", c.containers),
		page("POST", "/containers/new", access.CapControlContainer, "container.start", c.containerNew),
		page("POST", "/containers/{name}/start", access.CapControlContainer, "container.start", c.containerAction("start")),
		page("POST", "/containers/{name}/stop", access.CapControlContainer, "container.stop", c.containerAction("stop")),
		page("POST", "/containers/{name}/remove", access.CapControlContainer, "container.remove", c.containerAction("remove")),
		page("POST", "/containers/{name}/share", access.CapControlContainer, "container.share", c.containerShare),
		page("GET", "/containers/{name}/logs", access.CapControlContainer, "container.logs", c.containerLogs),
	}
}

type containerRow struct {
	wire.Container
	Running bool
	Jupyter string // the Jupyter address, for the owner of a development container
	Share   bool   // the share form: a named container, for its owner and administrators
}

type containersData struct {
	Containers []containerRow
	Control    bool
	GPU        bool
}

func (c *Console) containers(w http.ResponseWriter, r *http.Request) error {
	var cs []wire.Container
	if err := c.api.InvokeJSON(r, "GET", "/v1/containers", nil, nil, nil, &cs); err != nil {
		return err
	}
	p := access.FromContext(r.Context())
	d := containersData{Control: p.Can(access.CapControlContainer), GPU: p.Can(access.CapUseGPU)}
	for _, x := range cs {
		row := containerRow{Container: x, Running: x.Status == "running"}
		// A development container (listed OWNER/NAME) is never shared.
		row.Share = d.Control && !strings.Contains(x.Name, "/") && (x.Owner == p.User || p.Can(access.CapAdminAllObjects))
		// Jupyter runs in development containers, and a browser session
		// opens only its own user's (the proxy refuses an administrator's
		// session on another user's: docs/web.md).
		short := strings.TrimPrefix(x.Name, x.Owner+"/")
		if row.Running && x.Owner == p.User && short == devContainer {
			// The list names a container OWNER/NAME; Jupyter's routes take both apart.
			row.Jupyter = "/jupyter/" + url.PathEscape(x.Owner) + "/" + url.PathEscape(short) + "/"
		}
		d.Containers = append(d.Containers, row)
	}
	return c.render(w, r, http.StatusOK, "containers", "Containers", d)
}

func (c *Console) containerNew(w http.ResponseWriter, r *http.Request) error {
	name := strings.TrimSpace(r.PostFormValue("name"))
	if name == "" {
		return errdefs.Invalid("a new container needs a name")
	}
	req := wire.ContainerStart{Image: strings.TrimSpace(r.PostFormValue("image")), Runtime: strings.TrimSpace(r.PostFormValue("runtime"))}
	if g := strings.TrimSpace(r.PostFormValue("gpus")); g != "" && g != "0" {
		n, err := strconv.Atoi(g)
		if err != nil || n < 0 {
			return errdefs.Invalidf("gpus %q is not a number of GPUs", g)
		}
		req.GPUs = n
	}
	if err := c.api.InvokeJSON(r, "POST", "/v1/containers/{name}/start", map[string]string{"name": name}, nil, req, nil); err != nil {
		return err
	}
	return done(w, r, "/containers", "container "+name+" started")
}

// containerAction posts the dashboard's start, stop or remove button to
// the API route of the same name.
func (c *Console) containerAction(action string) api.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		name := r.PathValue("name")
		path := map[string]string{"name": name}
		var err error
		switch action {
		case "start":
			err = c.api.InvokeJSON(r, "POST", "/v1/containers/{name}/start", path, nil, wire.ContainerStart{}, nil)
		case "stop":
			err = c.api.InvokeJSON(r, "POST", "/v1/containers/{name}/stop", path, nil, nil, nil)
		case "remove":
			err = c.api.InvokeJSON(r, "DELETE", "/v1/containers/{name}", path, nil, nil, nil)
		}
		if err != nil {
			return err
		}
		past := map[string]string{"start": "started", "stop": "stopped", "remove": "removed"}[action]
		return done(w, r, "/containers", "container "+name+" "+past)
	}
}

// containerShare sets the roles a container is shared with (none: only
// its owner and administrators).
func (c *Console) containerShare(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	req := wire.ContainerShare{Roles: roleList(r.PostFormValue("roles"))}
	var x wire.Container
	if err := c.api.InvokeJSON(r, "POST", "/v1/containers/{name}/share", map[string]string{"name": name}, nil, req, &x); err != nil {
		return err
	}
	with := "no role"
	if len(x.Roles) > 0 {
		with = strings.Join(x.Roles, ", ")
	}
	return done(w, r, "/containers", "container "+name+" shared with "+with)
}

// maxLogBytes bounds the logs a page shows.
const maxLogBytes = 256 << 10

func (c *Console) containerLogs(w http.ResponseWriter, r *http.Request) error {
	var b api.Buffer
	if err := c.api.Invoke(&b, r, "GET", "/v1/containers/{name}/logs", map[string]string{"name": r.PathValue("name")}, nil, nil); err != nil {
		return err
	}
	text, _ := io.ReadAll(io.LimitReader(&b, maxLogBytes))
	return c.render(w, r, http.StatusOK, "logs", "Logs of "+r.PathValue("name"), string(text))
}

// devContainer is the name of each user's development container, the one
// that runs Jupyter (docs/notebooks.md).
const devContainer = "__dev__"
