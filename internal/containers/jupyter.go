package containers

import (
	"context"
	"fmt"
	"strings"

	"github.com/dockyard/dockyard/internal/access"
	"github.com/dockyard/dockyard/internal/audit"
	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/store"
	"github.com/dockyard/dockyard/internal/wire"
)

// JupyterOptions configure the Jupyter server of development containers
// (containers.jupyter.*).
type JupyterOptions struct {
	// Enabled: development containers started from now on run Jupyter
	// when their image has it.
	Enabled bool
	// Program is the Jupyter program in the container ("": the agent
	// looks for jupyter-lab, then jupyter-notebook).
	Program string
}

// JupyterPrefix is where the server serves the Jupyter of development
// containers: JupyterPrefix + OWNER/NAME/.
const JupyterPrefix = "/jupyter/"

// JupyterPath is the base URL of the Jupyter of owner's container name:
// /jupyter/OWNER/NAME/. The server proxies exactly this path to the
// container's agent, which serves Jupyter under it.
func JupyterPath(owner, name string) string { return wire.JupyterPath(owner, name) }

// IsDevelopment reports whether c is a development container, one that
// runs Jupyter: each user's __dev__.
func IsDevelopment(c store.Container) bool { return c.Name == DevName && c.Scope != "" }

// jupyterArgs are the agent arguments that make c's agent run Jupyter:
// none unless c is a development container and Jupyter is on.
func (s *Service) jupyterArgs(c store.Container) []string {
	if !s.o.Jupyter.Enabled || !IsDevelopment(c) {
		return nil
	}
	args := []string{"--jupyter-base-url", JupyterPath(c.Owner, c.Name)}
	if s.o.Jupyter.Program != "" {
		args = append(args, "--jupyter", s.o.Jupyter.Program)
	}
	return args
}

// JupyterTarget is the agent that serves a development container's
// Jupyter: where it answers and its bearer token (a secret: never log or
// return it). The server's proxy sends requests under BasePath there.
type JupyterTarget struct {
	Record   store.Container
	Endpoint string
	Token    string
	BasePath string
}

// Jupyter returns the Jupyter target of owner's container name for p,
// who must be its owner or an administrator (admin_all_objects): anyone
// else, and a name that does not exist, is told `container not found`
// (audited as a denied container.jupyter). Jupyter runs code, so p needs
// what running code in the container needs (control_mltk_container, an
// isolating runtime, both waived for administrators). The container must
// be a running development container.
func (s *Service) Jupyter(ctx context.Context, p *access.Principal, owner, name string) (JupyterTarget, error) {
	if p == nil {
		return JupyterTarget{}, errdefs.Unauthenticated("Jupyter needs a logged-in user")
	}
	display := owner + "/" + name
	addr := name
	if name == DevName {
		addr = owner + "/" + DevName
		if owner == p.User {
			addr = DevName
		}
	} else if strings.Contains(name, "/") {
		return JupyterTarget{}, notFound(display)
	}
	c, err := s.find(ctx, p, addr, verbManage, "container.jupyter", func(string) error { return notFound(display) })
	if err != nil {
		if errdefs.IsNotFound(err) {
			return JupyterTarget{}, notFound(display)
		}
		return JupyterTarget{}, err
	}
	if c.Owner != owner {
		// An administrator's or owner's container under another owner's
		// path: no such container there.
		s.denied(ctx, p, "container.jupyter", c, fmt.Sprintf("the path names owner %q, the container belongs to %q", owner, c.Owner))
		return JupyterTarget{}, notFound(display)
	}
	if !IsDevelopment(c) {
		return JupyterTarget{}, errdefs.NotFoundf("container %s runs no Jupyter: only development containers do (%s, `dockyard containers open %s`)", display, DevName, DevName)
	}
	if !s.o.Jupyter.Enabled {
		return JupyterTarget{}, errdefs.NotFoundf("container %s runs no Jupyter: Jupyter is off on this server (containers.jupyter.enabled)", display)
	}
	if err := s.checkRun(ctx, p, c); err != nil {
		return JupyterTarget{}, err
	}
	h, ok := s.runningHandle(ctx, c, p)
	if !ok {
		return JupyterTarget{}, errdefs.Unavailablef("container %s is not running: start it with `dockyard containers open %s` (or `dockyard containers start %s`)",
			display, DisplayName(c), DisplayName(c))
	}
	s.uses.touch(c.Name, c.Scope, s.now())
	return JupyterTarget{Record: c, Endpoint: h.Endpoint, Token: h.Token, BasePath: JupyterPath(c.Owner, c.Name)}, nil
}

// AuditJupyter records that p opened a kernel or terminal channel (a
// WebSocket: running code) in the Jupyter of c.
func (s *Service) AuditJupyter(ctx context.Context, p *access.Principal, c store.Container, path string) {
	s.record(ctx, audit.Event{User: p.User, Action: "container.jupyter", Object: object(c),
		Details: map[string]any{"owner": c.Owner, "path": path, "websocket": true}})
}
