package containers

import (
	"context"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/dockyard/dockyard/internal/access"
	"github.com/dockyard/dockyard/internal/audit"
	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/runtime"
	"github.com/dockyard/dockyard/internal/store"
)

// StartRequest asks for a container to run. Empty Image and Runtime mean
// the defaults.
type StartRequest struct {
	Name    string
	Image   string
	Runtime string
	Model   string
	GPUs    int
	// Cert names an operator certificate pair (containers.certs_dir) for
	// this container's agent, instead of its image entry's or one the
	// server CA issues; it needs configure_mltk_container.
	Cert string

	pinned *PinnedImage // set by pin
}

// pinnedKey carries the pinned image of a start to its audit event.
type pinnedKey struct{}

// pin fills in the request's image (the default when it names none) and
// resolves it through the catalogue (Options.PinImage): the runtime is the
// entry's, and what runs is its pinned content.
func (s *Service) pin(ctx context.Context, req *StartRequest) error {
	if req.Image == "" {
		req.Image = s.o.DefaultImage
	}
	if s.o.PinImage == nil || req.Runtime == RuntimeExternal {
		return nil
	}
	pi, err := s.o.PinImage(ctx, req.Image)
	if err != nil {
		if req.Image == s.o.DefaultImage && errdefs.IsNotFound(err) {
			return errdefs.NotFoundf("%w (it is containers.default_image: an administrator adds it, or sets the default to an entry of `dockyard images list`)", err)
		}
		return err
	}
	if req.Runtime != "" && req.Runtime != pi.Runtime {
		return errdefs.Invalidf("image %q runs on the %s runtime, not %s: leave out --runtime, or choose an image of that runtime (`dockyard images list`)",
			req.Image, pi.Runtime, req.Runtime)
	}
	req.Runtime, req.pinned = pi.Runtime, &pi
	return nil
}

// Start starts the container (creating its record and its runtime
// container when needed). It needs control_mltk_container, and use_gpu
// when GPUs > 0 with room in the owner's GPU quota (see claim); an
// existing container only by its owner or an administrator (anyone else
// is told it does not exist), and on a runtime that does not isolate only
// by an administrator. Starting a running container with the same
// settings does nothing more.
func (s *Service) Start(ctx context.Context, p *access.Principal, req StartRequest) (store.Container, error) {
	n, sc, err := scope(p, req.Name)
	if err != nil {
		return store.Container{}, err
	}
	if sc != "" && sc != p.User && !isAdmin(p) {
		s.denied(ctx, p, "container.start", store.Container{Name: n, Scope: sc}, "another user's development container is for administrators only")
		return store.Container{}, notFound(req.Name)
	}
	if err := s.pin(ctx, &req); err != nil {
		s.record(ctx, audit.Event{User: p.User, Action: "container.start", Object: object(store.Container{Name: n, Scope: sc}), Result: audit.ResultDenied, Message: err.Error(),
			Details: map[string]any{"image": req.Image}})
		return store.Container{}, err
	}
	if err := s.checkStart(p, n, sc, req); err != nil {
		s.record(ctx, audit.Event{User: p.User, Action: "container.start", Object: object(store.Container{Name: n, Scope: sc}), Result: audit.ResultDenied, Message: err.Error()})
		return store.Container{}, err
	}
	defer s.lock(n, sc)()
	c, err := s.o.Store.GetContainer(ctx, n, sc)
	if err == nil && !may(p, c, verbManage) {
		s.denied(ctx, p, "container.start", c, "not its owner")
		return store.Container{}, notFound(req.Name)
	}
	return s.startLocked(ctx, p, n, sc, req)
}

// checkStart checks what starting the container needs besides its
// ownership: the capabilities, and an isolating runtime.
func (s *Service) checkStart(p *access.Principal, name, sc string, req StartRequest) error {
	if err := needCap(p, access.CapControlContainer, fmt.Sprintf("starting container %q", name)); err != nil {
		return err
	}
	if sc != "" && sc != p.User && !isAdmin(p) {
		return errdefs.PermissionDeniedf("permission denied: %s/%s is another user's development container", sc, name)
	}
	if req.GPUs < 0 {
		return errdefs.Invalid("gpus must be 0 or more")
	}
	if err := checkCertRequest(p, name, req); err != nil {
		return err
	}
	if req.GPUs > 0 {
		if err := needCap(p, access.CapUseGPU, fmt.Sprintf("starting container %q with GPUs", name)); err != nil {
			return err
		}
	}
	rtName := req.Runtime
	if rtName == "" {
		rtName = s.o.DefaultRuntime
	}
	return s.checkIsolated(p, rtName, name, "starting")
}

func (s *Service) startLocked(ctx context.Context, p *access.Principal, name, sc string, req StartRequest) (store.Container, error) {
	rtName := req.Runtime
	if rtName == "" {
		rtName = s.o.DefaultRuntime
	}
	if rtName == RuntimeExternal {
		return store.Container{}, errdefs.Invalidf("container %q: external containers are not started by Dockyard; register one with `dockyard containers register`", name)
	}
	rt, ok := s.o.Runtimes[rtName]
	if !ok {
		return store.Container{}, errdefs.Invalidf("container runtime %q is not available on this server (have: %s)", rtName, s.runtimeNames())
	}
	image := req.Image
	if image == "" {
		image = s.o.DefaultImage
	}
	if req.pinned != nil && req.GPUs > 0 && !req.pinned.GPU {
		return store.Container{}, errdefs.Invalidf("image %q is not a GPU image: start GPUs from an entry marked for them (`dockyard images list` shows gpu true; an administrator marks one with `dockyard images update NAME --gpu`)", image)
	}
	ref := image // what the runtime runs
	if req.pinned != nil {
		ref = req.pinned.Ref
		ctx = context.WithValue(ctx, pinnedKey{}, *req.pinned)
	}
	owner := p.User
	if sc != "" {
		owner = sc
	}
	c, devices, err := s.claim(ctx, p, name, sc, owner, store.Container{Name: name, Scope: sc, Owner: owner, Image: image, Runtime: rtName,
		Desired: DesiredRunning, Status: StatusCreated, Model: req.Model, GPUs: req.GPUs, Created: s.now()}, req)
	if err != nil {
		return store.Container{}, err
	}
	// Reuse the runtime container when it matches the request.
	if c.RuntimeID != "" {
		old, ok := s.o.Runtimes[c.Runtime]
		rc, ierr := runtime.Container{}, error(nil)
		if ok {
			rc, ierr = old.Inspect(ctx, c.RuntimeID)
		}
		same := ok && ierr == nil && c.Runtime == rtName && c.Image == image && rc.Image == ref && c.GPUs == req.GPUs && slices.Equal(c.GPUDevices, devices) &&
			(req.Model == "" || req.Model == c.Model) && rc.Labels[LabelCert] == effectiveCert(ctx, keptCert(c, req))
		if same && rc.State == runtime.StateRunning {
			c = s.running(ctx, c, rc, p, false)
			return c, nil
		}
		if !same && ok && ierr == nil {
			if err := old.Remove(ctx, c.RuntimeID); err != nil && !errdefs.IsNotFound(err) {
				return s.failed(ctx, p, c, fmt.Errorf("removing its old container: %w", err))
			}
		}
		if !same || ierr != nil {
			c.RuntimeID = ""
		}
	}
	c.Runtime, c.Image, c.GPUs, c.GPUDevices, c.Desired = rtName, image, req.GPUs, devices, DesiredRunning
	c.Cert = keptCert(c, req)
	if req.Model != "" {
		c.Model = req.Model
	}
	if c.RuntimeID == "" {
		if req.pinned != nil && req.pinned.Pull != nil {
			if err := req.pinned.Pull(ctx); err != nil {
				return s.failed(ctx, p, c, err)
			}
		}
		id, err := s.create(ctx, rt, c, ref)
		if err != nil {
			return s.failed(ctx, p, c, err)
		}
		c.RuntimeID = id
		c.Status, c.Message, c.Updated = StatusCreated, "", s.now()
		if err := s.o.Store.UpdateContainer(ctx, c); err != nil {
			return s.failed(ctx, p, c, err)
		}
	}
	hec, err := s.startRuntime(ctx, rt, c)
	if err != nil {
		return s.failed(ctx, p, c, err)
	}
	rc, err := rt.Inspect(ctx, c.RuntimeID)
	if err != nil {
		s.revokeHEC(ctx, c)
		return s.failed(ctx, p, c, err)
	}
	return s.runningWith(ctx, c, rc, p, true, hec), nil
}

// create makes the runtime container for c, running the image ref, and
// returns its id. A leftover container of this server with the same name
// and labels is taken over.
func (s *Service) create(ctx context.Context, rt runtime.Runtime, c store.Container, ref string) (string, error) {
	labels := map[string]string{
		runtime.LabelServerID:  s.o.ServerID,
		runtime.LabelContainer: c.Name,
		runtime.LabelOwner:     c.Owner,
	}
	if c.Model != "" {
		labels[runtime.LabelModel] = c.Model
	}
	spec := runtime.Spec{Name: runtimeName(c.Name, c.Scope), Image: ref, Labels: labels, GPUs: c.GPUs, GPUDevices: c.GPUDevices}
	var err error
	if spec.AgentCert, err = s.agentCert(ctx, c, labels); err != nil {
		return "", err
	}
	if s.o.Python != "" {
		spec.Args = []string{"--python", s.o.Python}
	}
	spec.Args = append(spec.Args, s.jupyterArgs(c)...)
	rc, err := rt.Create(ctx, spec)
	if errdefs.IsConflict(err) {
		all, lerr := rt.List(ctx, map[string]string{runtime.LabelServerID: s.o.ServerID, runtime.LabelContainer: c.Name, runtime.LabelOwner: c.Owner})
		if lerr == nil {
			for _, x := range all {
				if x.Name == spec.Name {
					if rerr := rt.Remove(ctx, x.ID); rerr == nil {
						rc, err = rt.Create(ctx, spec)
					}
					break
				}
			}
		}
	}
	if err != nil {
		return "", err
	}
	return rc.ID, nil
}

// running records that c runs as rc, and audits the start.
func (s *Service) running(ctx context.Context, c store.Container, rc runtime.Container, p *access.Principal, started bool) store.Container {
	return s.runningWith(ctx, c, rc, p, started, "")
}

// runningWith is running for a start that issued the HEC token hecToken
// (its name only is audited; "" for none).
func (s *Service) runningWith(ctx context.Context, c store.Container, rc runtime.Container, p *access.Principal, started bool, hecToken string) store.Container {
	c.Status, c.Endpoint, c.Message, c.Desired = StatusRunning, rc.Endpoint, "", DesiredRunning
	if started || c.Started.IsZero() {
		c.Started, c.StartedBy = s.now(), p.User
	}
	c.Updated = s.now()
	if err := s.o.Store.UpdateContainer(ctx, c); err != nil {
		s.o.Log.Warn("updating container record", "container", c.Name, "err", err)
	}
	details := map[string]any{
		"image": c.Image, "runtime": c.Runtime, "gpus": c.GPUs, "model": c.Model, "owner": c.Owner,
		"runtime_id": c.RuntimeID, "already_running": !started, "image_ref": rc.Image,
	}
	if hecToken != "" {
		details["hec_token_name"] = hecToken
	}
	if pi, ok := ctx.Value(pinnedKey{}).(PinnedImage); ok {
		details["image_digest"], details["image_policy"] = pi.Digest, pi.Policy
	}
	s.record(ctx, audit.Event{User: p.User, Action: "container.start", Object: object(c), Details: details})
	return c
}

// failed records a failed start and returns its error.
func (s *Service) failed(ctx context.Context, p *access.Principal, c store.Container, err error) (store.Container, error) {
	c.Status, c.Message, c.Endpoint, c.Updated = StatusFailed, err.Error(), "", s.now()
	if uerr := s.o.Store.UpdateContainer(ctx, c); uerr != nil {
		s.o.Log.Warn("updating container record", "container", c.Name, "err", uerr)
	}
	s.record(ctx, audit.Event{User: p.User, Action: "container.start", Object: object(c), Result: audit.ResultFailure, Message: err.Error()})
	return c, fmt.Errorf("starting container %q: %w", c.Name, err)
}

func (s *Service) runtimeNames() string {
	var out []string
	for n := range s.o.Runtimes {
		out = append(out, n)
	}
	if len(out) == 0 {
		return "none"
	}
	return fmt.Sprint(out)
}

// Stop stops the container and keeps its record (desired state stopped).
// It needs control_mltk_container and ownership (or admin_all_objects).
// Stopping an external container only
// marks it stopped: Dockyard does not run it.
func (s *Service) Stop(ctx context.Context, p *access.Principal, name string) (store.Container, error) {
	return s.StopWith(ctx, p, name, StopOptions{})
}

// StopWith is Stop with options. A running container's notebook edits are
// synced first (see SetFinalSync); when that fails the stop is refused
// unless opts.Force.
func (s *Service) StopWith(ctx context.Context, p *access.Principal, name string, opts StopOptions) (store.Container, error) {
	n, sc, err := scope(p, name)
	if err != nil {
		return store.Container{}, err
	}
	if err := needCap(p, access.CapControlContainer, fmt.Sprintf("stopping container %q", n)); err != nil {
		s.record(ctx, audit.Event{User: p.User, Action: "container.stop", Object: object(store.Container{Name: n, Scope: sc}), Result: audit.ResultDenied, Message: err.Error()})
		return store.Container{}, err
	}
	defer s.lock(n, sc)()
	c, err := s.find(ctx, p, name, verbManage, "container.stop", notFound)
	if err != nil {
		return c, err
	}
	details := map[string]any{}
	if err := s.flush(ctx, p, c, "container.stop", opts.Force, details); err != nil {
		return c, err
	}
	if rt, ok := s.o.Runtimes[c.Runtime]; ok && c.RuntimeID != "" {
		if err := rt.Stop(ctx, c.RuntimeID, s.o.StopGrace); err != nil && !errdefs.IsNotFound(err) {
			s.record(ctx, audit.Event{User: p.User, Action: "container.stop", Object: object(c), Result: audit.ResultFailure, Message: err.Error()})
			return c, fmt.Errorf("stopping container %q: %w", n, err)
		}
	}
	s.revokeHEC(ctx, c)
	c.Desired, c.Status, c.Endpoint, c.Message, c.Updated = DesiredStopped, StatusStopped, "", "", s.now()
	if err := s.o.Store.UpdateContainer(ctx, c); err != nil {
		return c, err
	}
	details["runtime"], details["runtime_id"], details["owner"] = c.Runtime, c.RuntimeID, c.Owner
	s.record(ctx, audit.Event{User: p.User, Action: "container.stop", Object: object(c), Details: details})
	return c, nil
}

// Remove stops the container, deletes it from its runtime with its files,
// and deletes its record. It needs control_mltk_container and ownership
// (or admin_all_objects), and configure_mltk_container for an external
// one.
func (s *Service) Remove(ctx context.Context, p *access.Principal, name string) error {
	return s.RemoveWith(ctx, p, name, StopOptions{})
}

// RemoveWith is Remove with options: like StopWith, it syncs a running
// container's notebook edits first and refuses when that fails, unless
// opts.Force.
func (s *Service) RemoveWith(ctx context.Context, p *access.Principal, name string, opts StopOptions) error {
	if p.Can(access.CapControlContainer) && s.orphanNamed(ctx, name) {
		if handled, err := s.removeQuarantined(ctx, p, name, opts.Force); handled {
			return err
		}
	}
	n, sc, err := scope(p, name)
	if err != nil {
		return err
	}
	if err := needCap(p, access.CapControlContainer, fmt.Sprintf("removing container %q", n)); err != nil {
		s.record(ctx, audit.Event{User: p.User, Action: "container.remove", Object: object(store.Container{Name: n, Scope: sc}), Result: audit.ResultDenied, Message: err.Error()})
		return err
	}
	defer s.lock(n, sc)()
	c, err := s.find(ctx, p, name, verbManage, "container.remove", notFound)
	if err != nil {
		return err
	}
	if c.Runtime == RuntimeExternal {
		if err := needCap(p, access.CapConfigureContainer, fmt.Sprintf("removing external container %q", n)); err != nil {
			s.denied(ctx, p, "container.remove", c, err.Error())
			return err
		}
	}
	details := map[string]any{}
	if err := s.flush(ctx, p, c, "container.remove", opts.Force, details); err != nil {
		return err
	}
	if rt, ok := s.o.Runtimes[c.Runtime]; ok && c.RuntimeID != "" {
		if err := rt.Remove(ctx, c.RuntimeID); err != nil && !errdefs.IsNotFound(err) {
			return fmt.Errorf("removing container %q: %w", n, err)
		}
	}
	if err := s.o.Store.DeleteContainer(ctx, c.ID); err != nil {
		return err
	}
	s.revokeHEC(ctx, c)
	details["runtime"], details["runtime_id"] = c.Runtime, c.RuntimeID
	s.record(ctx, audit.Event{User: p.User, Action: "container.remove", Object: object(c), Details: details})
	return nil
}

// Logs returns the container's output since the given time (zero: all).
// It needs control_mltk_container and ownership (or admin_all_objects):
// the output of code a role holder ran is the owner's to read. The caller
// closes it.
func (s *Service) Logs(ctx context.Context, p *access.Principal, name string, since time.Time) (io.ReadCloser, error) {
	if err := needCap(p, access.CapControlContainer, fmt.Sprintf("reading the logs of container %q", name)); err != nil {
		s.denied(ctx, p, "container.logs", store.Container{Name: name}, err.Error())
		return nil, err
	}
	c, err := s.find(ctx, p, name, verbManage, "container.logs", notFound)
	if err != nil {
		return nil, err
	}
	c = s.refresh(ctx, c)
	rt, ok := s.o.Runtimes[c.Runtime]
	if !ok {
		return nil, errdefs.Invalidf("container %q runs on the %s runtime, whose logs Dockyard cannot read", name, c.Runtime)
	}
	if c.RuntimeID == "" {
		return nil, errdefs.NotFoundf("container %q has no logs: it is not created (status %s); start it first", name, c.Status)
	}
	return rt.Logs(ctx, c.RuntimeID, since)
}
