package containers

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"

	"github.com/dockyard/dockyard/internal/access"
	"github.com/dockyard/dockyard/internal/agent/agentclient"
	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/notebooks"
	"github.com/dockyard/dockyard/internal/runtime"
	"github.com/dockyard/dockyard/internal/store"
)

// Handle is a running container's agent: where it answers, its bearer
// token (a secret: never log or return it) and a TLS configuration that
// verifies it.
type Handle struct {
	Name      string // record name (DevName for development containers)
	Owner     string
	Runtime   string
	Image     string
	Endpoint  string
	Token     string
	TLS       *tls.Config
	Principal *access.Principal // who asked for it
	Record    store.Container
}

// HTTPClient returns an HTTP client that verifies the agent.
func (h *Handle) HTTPClient() *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = h.TLS.Clone()
	return &http.Client{Transport: tr}
}

// Agent returns a client of the container's agent API.
func (h *Handle) Agent() *agentclient.Client {
	return agentclient.New(h.Endpoint, h.Token, h.HTTPClient())
}

// EnsureOptions are used when Ensure has to start the container.
type EnsureOptions struct {
	Image   string
	Runtime string
	Model   string
	GPUs    int
}

// Ensure returns the handle of the running container name ("" or DevName:
// p's development container) for running code in it. p must own it, hold
// a role it is shared with, or hold admin_all_objects; anyone else is told
// it does not exist, as for a name that does not exist. Running code needs
// control_mltk_container, and a runtime that isolates (both waived for
// administrators). A stopped, exited or lost container (and a development
// container that does not exist yet) is started on demand (use_gpu for
// GPUs); a named container that does not exist is not created.
func (s *Service) Ensure(ctx context.Context, p *access.Principal, name string, opts EnsureOptions) (*Handle, error) {
	if p == nil {
		return nil, errdefs.Unauthenticated("using a container needs a logged-in user")
	}
	n, sc, err := scope(p, name)
	if err != nil {
		return nil, err
	}
	defer s.lock(n, sc)()
	defer s.uses.touch(n, sc, s.now()) // a fit or apply keeps it from idle culling
	c, err := s.find(ctx, p, name, verbRun, "container.run", notFoundToRun)
	switch {
	case errdefs.IsNotFound(err) && n == DevName && (sc == p.User || isAdmin(p)):
		c = store.Container{} // a development container is made on demand
	case err != nil:
		return nil, err
	default:
		if err := s.checkRun(ctx, p, c); err != nil {
			return nil, err
		}
		if c.Runtime == RuntimeExternal {
			return s.externalHandle(c, p)
		}
		if h, ok := s.runningHandle(ctx, c, p); ok {
			return h, nil
		}
	}
	req := StartRequest{Name: n, Image: opts.Image, Runtime: opts.Runtime, Model: opts.Model, GPUs: opts.GPUs}
	if c.ID != 0 {
		// Restart as it was, unless the caller asks for something else.
		if req.Image == "" {
			req.Image = c.Image
		}
		if req.Runtime == "" {
			req.Runtime = c.Runtime
		}
		if req.GPUs == 0 {
			req.GPUs = c.GPUs
		}
	}
	if !isAdmin(p) && !p.Can(access.CapControlContainer) {
		err := errdefs.PermissionDeniedf("permission denied: container %q is not running, and starting it needs the capability %q, which your roles (%s) do not grant; "+
			"ask someone who has it to start it, or an administrator for a role that has it", n, access.CapControlContainer, strings.Join(p.Roles, ", "))
		s.denied(ctx, p, "container.start", store.Container{Name: n, Scope: sc, Owner: c.Owner}, err.Error())
		return nil, err
	}
	if err := s.pin(ctx, &req); err != nil {
		s.denied(ctx, p, "container.start", store.Container{Name: n, Scope: sc, Owner: c.Owner}, err.Error())
		return nil, err
	}
	if err := s.checkStart(p, n, sc, req); err != nil {
		s.denied(ctx, p, "container.start", store.Container{Name: n, Scope: sc, Owner: c.Owner}, err.Error())
		return nil, err
	}
	c, err = s.startLocked(ctx, p, n, sc, req)
	if err != nil {
		return nil, err
	}
	h, ok := s.runningHandle(ctx, c, p)
	if !ok {
		return nil, errdefs.Unavailablef("container %q started but is not running: see `dockyard containers logs %s`", n, n)
	}
	return h, nil
}

// runningHandle returns the handle of c when its runtime says it runs.
func (s *Service) runningHandle(ctx context.Context, c store.Container, p *access.Principal) (*Handle, bool) {
	rt, ok := s.o.Runtimes[c.Runtime]
	if !ok || c.RuntimeID == "" {
		return nil, false
	}
	rc, err := rt.Inspect(ctx, c.RuntimeID)
	if err != nil || rc.State != runtime.StateRunning || rc.Endpoint == "" {
		return nil, false
	}
	if c.Status != StatusRunning || c.Endpoint != rc.Endpoint {
		c.Status, c.Endpoint, c.Message, c.Updated = StatusRunning, rc.Endpoint, "", s.now()
		if err := s.o.Store.UpdateContainer(ctx, c); err != nil {
			s.o.Log.Warn("updating container record", "container", c.Name, "err", err)
		}
	}
	return &Handle{Name: c.Name, Owner: c.Owner, Runtime: c.Runtime, Image: c.Image, Endpoint: rc.Endpoint, Token: rc.Token,
		TLS: s.o.AgentTLS, Principal: p, Record: c}, true
}

// PushNotebook makes sure the newest version of the notebook name (as the
// handle's principal resolves it) is in the container, pushing it from
// the central store when the container lacks it or holds other content.
// It returns the version that is there.
func (s *Service) PushNotebook(ctx context.Context, h *Handle, name string) (store.NotebookVersion, error) {
	if s.o.Notebooks == nil {
		return store.NotebookVersion{}, errdefs.Unavailable("notebooks are not available on this server")
	}
	info, v, content, err := s.o.Notebooks.Content(ctx, h.Principal, name, 0)
	if err != nil {
		return store.NotebookVersion{}, err
	}
	file := notebooks.FileName(info.Name, v.Format)
	ag := h.Agent()
	want := strings.TrimPrefix(v.Digest, "sha256:")
	if have, err := ag.GetNotebook(ctx, file); err == nil {
		sum := sha256.Sum256(have)
		if hex.EncodeToString(sum[:]) == want {
			return v, nil
		}
	} else if !errdefs.IsNotFound(err) {
		return store.NotebookVersion{}, fmt.Errorf("notebook %s: checking container %q: %w", name, h.Name, err)
	}
	fi, err := ag.PutNotebook(ctx, file, content)
	if err != nil {
		return store.NotebookVersion{}, fmt.Errorf("notebook %s: pushing it to container %q: %w", name, h.Name, err)
	}
	if fi.SHA256 != "" && fi.SHA256 != want {
		return store.NotebookVersion{}, errdefs.Unavailablef("notebook %s: container %q stored different content (sha256 %s, want %s)", name, h.Name, fi.SHA256, want)
	}
	s.o.Log.Info("notebook pushed to container", "notebook", name, "version", v.Version, "container", h.Name, "owner", h.Owner)
	return v, nil
}
