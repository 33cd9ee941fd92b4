package api

import (
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/dockyard/dockyard/internal/access"
	"github.com/dockyard/dockyard/internal/containers"
	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/wire"
)

// ContainersAPI serves the container dashboard: list, start, stop, logs,
// remove, share and external registration. The service records the audit events
// (it also starts containers for fits), with the request's source and id.
type ContainersAPI struct {
	*API
	Containers *containers.Service
}

// Routes lists the container routes.
func (c *ContainersAPI) Routes() []Route {
	return []Route{
		{Method: "GET", Pattern: "/v1/containers", Cap: access.CapListContainer, Action: "container.list", Handle: c.list},
		{Method: "POST", Pattern: "/v1/containers/{name}/start", Cap: access.CapControlContainer, Action: "container.start", Handle: c.start},
		{Method: "POST", Pattern: "/v1/containers/{name}/stop", Cap: access.CapControlContainer, Action: "container.stop", Handle: c.stop},
		{Method: "DELETE", Pattern: "/v1/containers/{name}", Cap: access.CapControlContainer, Action: "container.remove", Handle: c.remove},
		{Method: "GET", Pattern: "/v1/containers/{name}/logs", Cap: access.CapControlContainer, Action: "container.logs", Handle: c.logs},
		{Method: "POST", Pattern: "/v1/containers/{name}/register", Cap: access.CapConfigureContainer, Action: "container.register", Handle: c.register},
		{Method: "POST", Pattern: "/v1/containers/{name}/share", Cap: access.CapControlContainer, Action: "container.share", Handle: c.share},
	}
}

// ContainerWire converts a record for the API; the token never leaves.
func ContainerWire(c containers.Container) wire.Container {
	w := wire.Container{Name: containers.DisplayName(c), Image: c.Image, Runtime: c.Runtime, Status: c.Status, Model: c.Model,
		Owner: c.Owner, GPUs: c.GPUs, GPUDevices: c.GPUDevices, Endpoint: c.Endpoint, StartedBy: c.StartedBy, Desired: c.Desired, Message: c.Message,
		Created: c.Created, TokenHint: c.TokenHint, Roles: c.Roles, Cert: c.Cert}
	if !c.Started.IsZero() {
		t := c.Started
		w.Started = &t
	}
	return w
}

func (c *ContainersAPI) ctx(r *http.Request) *http.Request {
	return r.WithContext(containers.WithAuditInfo(r.Context(), containers.AuditInfo{Source: remoteHost(r), RequestID: RequestID(r.Context())}))
}

func (c *ContainersAPI) list(w http.ResponseWriter, r *http.Request) error {
	cs, err := c.Containers.ListFor(r.Context(), access.FromContext(r.Context()))
	if err != nil {
		return err
	}
	out := make([]wire.Container, 0, len(cs))
	for _, x := range cs {
		out = append(out, ContainerWire(x))
	}
	return writeJSON(w, http.StatusOK, out)
}

func (c *ContainersAPI) start(w http.ResponseWriter, r *http.Request) error {
	var req wire.ContainerStart
	if err := decode(w, r, &req); err != nil {
		return err
	}
	r = c.ctx(r)
	p := access.FromContext(r.Context())
	x, err := c.Containers.Start(r.Context(), p, containers.StartRequest{Name: r.PathValue("name"), Image: req.Image,
		Runtime: req.Runtime, Model: req.Model, GPUs: req.GPUs, Cert: req.Cert})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, ContainerWire(x))
}

func (c *ContainersAPI) stop(w http.ResponseWriter, r *http.Request) error {
	r = c.ctx(r)
	force, err := forceParam(r)
	if err != nil {
		return err
	}
	x, err := c.Containers.StopWith(r.Context(), access.FromContext(r.Context()), r.PathValue("name"), containers.StopOptions{Force: force})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, ContainerWire(x))
}

func (c *ContainersAPI) remove(w http.ResponseWriter, r *http.Request) error {
	r = c.ctx(r)
	name := r.PathValue("name")
	force, err := forceParam(r)
	if err != nil {
		return err
	}
	if err := c.Containers.RemoveWith(r.Context(), access.FromContext(r.Context()), name, containers.StopOptions{Force: force}); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]string{"removed": name})
}

func (c *ContainersAPI) logs(w http.ResponseWriter, r *http.Request) error {
	var since time.Time
	if s := r.URL.Query().Get("since"); s != "" {
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			return errdefs.Invalid("since must be an RFC 3339 time such as 2026-01-02T15:04:05Z")
		}
		since = t
	}
	r = c.ctx(r)
	rc, err := c.Containers.Logs(r.Context(), access.FromContext(r.Context()), r.PathValue("name"), since)
	if err != nil {
		return err
	}
	defer rc.Close()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	f, _ := w.(http.Flusher)
	buf := make([]byte, 32<<10)
	for {
		n, err := rc.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				return nil
			}
			if f != nil {
				f.Flush()
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			c.Log.Warn("reading container logs", "container", r.PathValue("name"), "err", err)
			return nil
		}
	}
}

func (c *ContainersAPI) register(w http.ResponseWriter, r *http.Request) error {
	var req wire.ContainerRegister
	if err := decode(w, r, &req); err != nil {
		return err
	}
	r = c.ctx(r)
	x, err := c.Containers.Register(r.Context(), access.FromContext(r.Context()), containers.RegisterRequest{
		Name: r.PathValue("name"), URL: req.URL, Token: req.Token, CAPEM: req.CAPEM, Model: req.Model})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, ContainerWire(x))
}

func (c *ContainersAPI) share(w http.ResponseWriter, r *http.Request) error {
	var req wire.ContainerShare
	if err := decode(w, r, &req); err != nil {
		return err
	}
	r = c.ctx(r)
	x, err := c.Containers.Share(r.Context(), access.FromContext(r.Context()), r.PathValue("name"), req.Roles)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, ContainerWire(x))
}

// forceParam reads ?force=true|false of stop and remove.
func forceParam(r *http.Request) (bool, error) {
	v := r.URL.Query().Get("force")
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, errdefs.Invalid("force=" + v + ": give true or false")
	}
	return b, nil
}
