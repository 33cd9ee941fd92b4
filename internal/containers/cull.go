package containers

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/dockyard/dockyard/internal/agent"
	"github.com/dockyard/dockyard/internal/audit"
	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/store"
)

// Idle culling of development containers, as JupyterHub's culler stops
// idle single-user servers, but without its data loss: a development
// container whose Jupyter has had no activity, has no open kernel or
// connection, and has run no fit, apply or summary for the idle timeout
// gets its final notebook sync, then is stopped (its files stay; `start`
// or the next fit brings it back). When the final sync fails, it is not
// stopped: the failure is audited and the next pass tries again. Each
// stop is audited as container.cull by user "system".

// useTracker remembers when each container was last used through the
// server (Ensure for fits and applies, the Jupyter proxy): the gap between
// handing out a container and the agent's job starting counts as use.
type useTracker struct {
	mu     sync.Mutex
	last   map[string]time.Time
	failed map[string]string // the last failure audited, per container
}

func (u *useTracker) touch(name, scope string, t time.Time) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.last == nil {
		u.last = map[string]time.Time{}
	}
	u.last[name+"\x00"+scope] = t
}

func (u *useTracker) get(name, scope string) time.Time {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.last[name+"\x00"+scope]
}

// failedOnce reports whether msg is new for the container (so that a
// failure repeated at every pass is audited once).
func (u *useTracker) failedOnce(name, scope, msg string) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.failed == nil {
		u.failed = map[string]string{}
	}
	k := name + "\x00" + scope
	if u.failed[k] == msg {
		return false
	}
	u.failed[k] = msg
	return true
}

// onlyInvalid reports whether every error joined in err is an Invalid one
// (a notebook that is not valid, so no sync can store it).
func onlyInvalid(err error) bool {
	switch u := err.(type) {
	case interface{ Unwrap() []error }:
		for _, e := range u.Unwrap() {
			if !onlyInvalid(e) {
				return false
			}
		}
		return len(u.Unwrap()) > 0
	case interface{ Unwrap() error }:
		// A wrapper of a joined error (the final sync's): look inside;
		// any other chain is one error, whose kind errors.Is finds.
		if inner, ok := u.Unwrap().(interface{ Unwrap() []error }); ok {
			return onlyInvalid(inner.(error))
		}
	}
	return errdefs.IsInvalid(err)
}

// CullReport says what a culling pass did.
type CullReport struct {
	Stopped []string // OWNER/__dev__ of each container stopped
	Busy    []string // kept: in use or not idle long enough
	Failed  []string // "OWNER/__dev__: why" (the final sync failed, the agent did not answer)
}

// idleSince is when c's agent was last in use by its status, and whether
// it is in use now.
func idleSince(st agent.JupyterStatus, serverUse time.Time) (time.Time, bool) {
	busy := st.JobsRunning > 0 || st.Kernels > 0 || st.Connections > 0
	last := st.AgentStarted
	for _, t := range []time.Time{st.LastJob, st.LastActivity, serverUse} {
		if t.After(last) {
			last = t
		}
	}
	return last, busy
}

// CullIdle stops every running development container idle for at least
// timeout (see above); timeout <= 0 does nothing.
func (s *Service) CullIdle(ctx context.Context, timeout time.Duration) (CullReport, error) {
	var rep CullReport
	if timeout <= 0 {
		return rep, nil
	}
	all, err := s.o.Store.ListContainers(ctx)
	if err != nil {
		return rep, err
	}
	for _, c := range all {
		if !IsDevelopment(c) || c.Runtime == RuntimeExternal || c.Desired != DesiredRunning || c.RuntimeID == "" {
			continue
		}
		name := c.Scope + "/" + c.Name
		stopped, err := s.cullOne(ctx, c, timeout)
		switch {
		case err != nil:
			rep.Failed = append(rep.Failed, name+": "+err.Error())
		case stopped:
			rep.Stopped = append(rep.Stopped, name)
		default:
			rep.Busy = append(rep.Busy, name)
		}
	}
	return rep, nil
}

// cullOne stops c when it is idle, under its lock.
func (s *Service) cullOne(ctx context.Context, c store.Container, timeout time.Duration) (bool, error) {
	defer s.lock(c.Name, c.Scope)()
	c, err := s.o.Store.GetContainer(ctx, c.Name, c.Scope)
	if err != nil {
		if errdefs.IsNotFound(err) {
			return false, nil
		}
		return false, err
	}
	if c.Desired != DesiredRunning {
		return false, nil
	}
	h, ok := s.runningHandle(ctx, c, nil)
	if !ok {
		return false, nil
	}
	st, err := h.Agent().Jupyter(ctx)
	if errdefs.IsNotFound(err) {
		// An agent older than idle culling: it cannot say.
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("asking its agent whether it is idle: %w", err)
	}
	since, busy := idleSince(st, s.uses.get(c.Name, c.Scope))
	now := s.now()
	if busy || now.Sub(since) < timeout {
		return false, nil
	}
	details := map[string]any{"owner": c.Owner, "idle_since": since.UTC().Format(time.RFC3339), "idle_timeout": timeout.String(),
		"runtime": c.Runtime, "runtime_id": c.RuntimeID, "jupyter": st.Enabled}
	if s.finalSync != nil {
		fctx, cancel := ctx, context.CancelFunc(func() {})
		if s.finalSyncTimeout > 0 {
			fctx, cancel = context.WithTimeout(ctx, s.finalSyncTimeout)
		}
		start := time.Now()
		err := s.finalSync(fctx, c)
		cancel()
		switch {
		case err == nil:
			details["final_sync"] = "ok"
		case onlyInvalid(err):
			// Files no sync can store (a scratch notebook without named
			// cells, a torn save): stopping keeps them in the container,
			// as they are, for its next start; they are not lost by it.
			details["final_sync"] = "ok"
			details["not_stored"] = err.Error()
		default:
			msg := fmt.Sprintf("idle container %s was not stopped: its notebook edits could not all be saved (%v); it is tried again at the next pass", DisplayName(c), err)
			details["final_sync"] = "failed"
			if s.uses.failedOnce(c.Name, c.Scope, msg) {
				s.record(ctx, audit.Event{User: "system", Action: "container.cull", Object: object(c), Result: audit.ResultFailure, Message: msg, Details: details})
			}
			return false, fmt.Errorf("final sync: %w", err)
		}
		details["final_sync_ms"] = time.Since(start).Milliseconds()
	} else {
		// Sync is off: the stopped container keeps its files.
		details["final_sync"] = "off (containers.sync_interval is 0)"
	}
	if rt, ok := s.o.Runtimes[c.Runtime]; ok {
		if err := rt.Stop(ctx, c.RuntimeID, s.o.StopGrace); err != nil && !errdefs.IsNotFound(err) {
			s.record(ctx, audit.Event{User: "system", Action: "container.cull", Object: object(c), Result: audit.ResultFailure, Message: err.Error(), Details: details})
			return false, fmt.Errorf("stopping it: %w", err)
		}
	}
	s.revokeHEC(ctx, c)
	c.Desired, c.Status, c.Endpoint, c.Updated = DesiredStopped, StatusStopped, "", now
	c.Message = fmt.Sprintf("stopped after %s idle (containers.idle_timeout); start it again with `dockyard containers start %s`, or run a fit", timeout, DevName)
	if err := s.o.Store.UpdateContainer(ctx, c); err != nil {
		return false, err
	}
	s.record(ctx, audit.Event{User: "system", Action: "container.cull", Object: object(c),
		Message: fmt.Sprintf("stopped idle development container %s after its final sync", DisplayName(c)), Details: details})
	return true, nil
}
