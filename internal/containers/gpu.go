package containers

import (
	"context"
	"fmt"
	"slices"
	"sort"

	"github.com/dockyard/dockyard/internal/access"
	"github.com/dockyard/dockyard/internal/audit"
	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/store"
)

// StatusStarting is the status of a record whose start has claimed its
// GPUs and not yet finished (it becomes running or failed).
const StatusStarting = "starting"

// Store is what the service keeps its records in: the container store,
// with transactions (a start's GPU claim is one).
type Store interface {
	store.ContainerStore
	store.Transactor
}

// GPUQuotas decides how many GPUs a user may hold at once (internal/gpu).
// It is called inside the transaction of a start's claim, with that
// transaction's context.
type GPUQuotas interface {
	// GPULimit returns the most GPUs user may hold (-1: no limit) and the
	// quota that decides it, in words ("user carol", "role gpu_users",
	// "containers.gpu.default_quota").
	GPULimit(ctx context.Context, user string) (max int, source string, err error)
}

// HoldsGPUs reports whether c holds its GPUs: it asks for some, should
// run, and runs or is being started (a failed, lost, exited or stopped
// container holds none, and asks again when it is started).
func HoldsGPUs(c store.Container) bool {
	if c.GPUs <= 0 || c.Desired != DesiredRunning {
		return false
	}
	switch c.Status {
	case StatusCreated, StatusStarting, StatusRunning:
		return true
	}
	return false
}

// HeldGPUs sums the GPUs each owner's containers hold.
func HeldGPUs(cs []store.Container) map[string]int {
	out := map[string]int{}
	for _, c := range cs {
		if HoldsGPUs(c) {
			out[c.Owner] += c.GPUs
		}
	}
	return out
}

// quotaError is a start refused by a GPU quota.
type quotaError struct {
	owner          string
	want, held     int
	max            int
	source         string
	holders        []string
	callerIsHolder bool
}

func (e *quotaError) Error() string {
	what := fmt.Sprintf("%s holds %d GPU(s)", e.owner, e.held)
	if e.callerIsHolder && len(e.holders) > 0 {
		what += fmt.Sprintf(" (%v)", e.holders)
	}
	fix := fmt.Sprintf("stop a container that holds GPUs (`dockyard containers stop NAME`), ask for fewer (--gpus), or ask an administrator to raise the quota (`dockyard gpu quota set --user %s --max N`)", e.owner)
	if e.max == 0 {
		return fmt.Sprintf("GPU quota: %s may hold no GPUs (%s), and this start asks for %d: ask an administrator for a GPU quota (`dockyard gpu quota set --user %s --max N`, or --role ROLE)",
			e.owner, e.source, e.want, e.owner)
	}
	return fmt.Sprintf("GPU quota: %s may hold %d GPU(s) (%s); %s and this start asks for %d more: %s", e.owner, e.max, e.source, what, e.want, fix)
}

// poolError is a start refused because the runtime's listed GPU devices
// are held by other containers.
type poolError struct {
	runtime     string
	want, total int
	free        []string
}

func (e *poolError) Error() string {
	return fmt.Sprintf("GPU devices: the %s runtime has %d GPU(s) (containers.gpu.%s_devices), %d free (%v), and this start asks for %d: "+
		"wait for a container to stop, ask for fewer (--gpus), or ask an administrator to stop one (`dockyard gpu list` shows who holds them)",
		e.runtime, e.total, e.runtime, len(e.free), e.free, e.want)
}

// assignDevices chooses want of the runtime rt's listed GPU devices for c
// that no other container holds (its own current ones first, then in the
// listed order), or returns the refusal; nil, nil when rt's devices are
// not listed (the runtime picks by count). It runs in the claim's
// transaction, so that two starts never get one device.
func (s *Service) assignDevices(ctx context.Context, rt string, c store.Container, want int) ([]string, *poolError, error) {
	all := s.o.GPUDevices[rt]
	if len(all) == 0 || want <= 0 {
		return nil, nil, nil
	}
	cs, err := s.o.Store.ListContainers(ctx)
	if err != nil {
		return nil, nil, err
	}
	held := map[string]bool{}
	for _, x := range cs {
		if x.Runtime == rt && (x.Name != c.Name || x.Scope != c.Scope) && HoldsGPUs(x) {
			for _, d := range x.GPUDevices {
				held[d] = true
			}
		}
	}
	var free []string
	for _, d := range append(slices.Clone(c.GPUDevices), all...) {
		if slices.Contains(all, d) && !held[d] && !slices.Contains(free, d) {
			free = append(free, d)
		}
	}
	if len(free) < want {
		return nil, &poolError{runtime: rt, want: want, total: len(all), free: free}, nil
	}
	return free[:want], nil, nil
}

// claim records, in one transaction, that the container (name, sc) of
// owner should run with req's GPUs, after checking owner's GPU quota
// against what their other containers hold: SQLite's BEGIN IMMEDIATE
// serialises the claims, so concurrent starts never hold more than the
// quota together. A new record is created (status created); an existing
// one is marked starting with the larger of its old and new GPU count
// until the start ends. Where the runtime's GPU devices are listed, the
// claim also chooses the devices (see assignDevices). It returns the
// record as it was before the claim (for a new one, as created) and the
// devices chosen. A refusal by the quota or the devices is audited.
func (s *Service) claim(ctx context.Context, p *access.Principal, name, sc, owner string, fresh store.Container, req StartRequest) (store.Container, []string, error) {
	var before store.Container
	var devices []string
	var qe *quotaError
	var pe *poolError
	err := s.o.Store.InTx(ctx, func(ctx context.Context) error {
		c, err := s.o.Store.GetContainer(ctx, name, sc)
		isNew := errdefs.IsNotFound(err)
		switch {
		case isNew:
			c = fresh
		case err != nil:
			return err
		case c.Runtime == RuntimeExternal:
			return errdefs.Conflictf("container %q is a registered external container: it is not started by Dockyard", name)
		}
		if req.GPUs > 0 {
			if qe, err = s.checkGPUQuota(ctx, p, c, req.GPUs); err != nil || qe != nil {
				if qe != nil {
					return qe
				}
				return err
			}
			if devices, pe, err = s.assignDevices(ctx, fresh.Runtime, c, req.GPUs); err != nil || pe != nil {
				if pe != nil {
					return pe
				}
				return err
			}
		}
		if isNew {
			c.GPUDevices = devices
			before, err = s.o.Store.CreateContainer(ctx, c)
			return err
		}
		before = c
		if !HoldsGPUs(c) {
			c.GPUs, c.GPUDevices = 0, nil
		}
		c.GPUs = max(c.GPUs, req.GPUs)
		// Until the start ends it holds its old devices and the new ones.
		for _, d := range devices {
			if !slices.Contains(c.GPUDevices, d) {
				c.GPUDevices = append(c.GPUDevices, d)
			}
		}
		c.Desired = DesiredRunning
		if c.Status != StatusRunning && c.Status != StatusCreated {
			c.Status, c.Message = StatusStarting, ""
		}
		c.Updated = s.now()
		return s.o.Store.UpdateContainer(ctx, c)
	})
	if qe != nil {
		s.record(ctx, audit.Event{User: p.User, Action: "container.start", Object: object(store.Container{Name: name, Scope: sc}), Result: audit.ResultDenied,
			Message: qe.Error(), Details: map[string]any{"owner": owner, "gpus": req.GPUs, "gpus_held": qe.held, "gpu_quota": qe.max,
				"gpu_quota_source": qe.source, "holders": qe.holders}})
		return store.Container{}, nil, errdefs.Limitf("%w", qe)
	}
	if pe != nil {
		s.record(ctx, audit.Event{User: p.User, Action: "container.start", Object: object(store.Container{Name: name, Scope: sc}), Result: audit.ResultDenied,
			Message: pe.Error(), Details: map[string]any{"owner": owner, "gpus": req.GPUs, "runtime": pe.runtime, "gpu_devices": pe.total, "gpu_devices_free": pe.free}})
		return store.Container{}, nil, errdefs.Limitf("%w", pe)
	}
	return before, devices, err
}

// checkGPUQuota returns the refusal when owner c.Owner would hold more
// GPUs than their quota with want more for c (c's own GPUs are not
// counted: a restart replaces them).
func (s *Service) checkGPUQuota(ctx context.Context, p *access.Principal, c store.Container, want int) (*quotaError, error) {
	if s.o.GPUQuotas == nil {
		return nil, nil
	}
	limit, source, err := s.o.GPUQuotas.GPULimit(ctx, c.Owner)
	if err != nil {
		return nil, fmt.Errorf("the GPU quota of %q: %w", c.Owner, err)
	}
	if limit < 0 {
		return nil, nil
	}
	all, err := s.o.Store.ListContainers(ctx)
	if err != nil {
		return nil, err
	}
	held := 0
	var holders []string
	for _, x := range all {
		if x.Owner == c.Owner && (x.Name != c.Name || x.Scope != c.Scope) && HoldsGPUs(x) {
			held += x.GPUs
			holders = append(holders, fmt.Sprintf("%s: %d", object(x), x.GPUs))
		}
	}
	if held+want <= limit {
		return nil, nil
	}
	sort.Strings(holders)
	return &quotaError{owner: c.Owner, want: want, held: held, max: limit, source: source, holders: holders,
		callerIsHolder: p.User == c.Owner}, nil
}
