package containers

import (
	"context"
	"fmt"
	"time"

	"github.com/dockyard/dockyard/internal/access"
	"github.com/dockyard/dockyard/internal/audit"
	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/store"
)

// StopOptions change how Stop and Remove treat a container's unsaved
// work.
type StopOptions struct {
	// Force stops or removes the container even when its final sync
	// failed (its unsaved notebook edits are then lost); the audit event
	// says so.
	Force bool
}

// FinalSync stores the work a running container holds before it stops
// (nbsync.Syncer.Flush); it fails when any edit could not be stored.
type FinalSync func(ctx context.Context, c store.Container) error

// SetFinalSync sets the final sync run by Stop and Remove, bounded by
// timeout (0: no bound but the caller's). Call it before serving.
func (s *Service) SetFinalSync(f FinalSync, timeout time.Duration) {
	s.finalSync, s.finalSyncTimeout = f, timeout
}

// flush runs the final sync of a running, runtime-managed container.
// When it fails the stop or removal is refused (Conflict) unless force,
// in which case it goes on and the loss is audited; details gets what
// happened for the action's own audit event.
func (s *Service) flush(ctx context.Context, p *access.Principal, c store.Container, action string, force bool, details map[string]any) error {
	if s.finalSync == nil || c.Runtime == RuntimeExternal || c.RuntimeID == "" {
		return nil
	}
	if c = s.refresh(ctx, c); c.Status != StatusRunning {
		// A stopped container's files stay and are synced at its next
		// start; one that exited on its own (crashed, killed) had no final
		// sync, so removing it with its files needs force.
		if action != "container.remove" || c.Status != StatusExited || c.Desired != DesiredRunning {
			return nil
		}
		if force {
			details["final_sync"], details["forced"] = "skipped: the container exited without one", true
			return nil
		}
		msg := fmt.Sprintf("remove container %q refused: it exited without a final sync, so notebook edits in it may not be saved; start it again (its edits are then synced) and remove it, or pass --force to remove it and lose them", c.Name)
		s.record(ctx, audit.Event{User: p.User, Action: action, Object: object(c), Result: audit.ResultFailure, Message: msg,
			Details: map[string]any{"final_sync": "none: exited", "owner": c.Owner}})
		return errdefs.Conflict(msg)
	}
	fctx, cancel := ctx, context.CancelFunc(func() {})
	if s.finalSyncTimeout > 0 {
		fctx, cancel = context.WithTimeout(ctx, s.finalSyncTimeout)
	}
	defer cancel()
	start := time.Now()
	err := s.finalSync(fctx, c)
	details["final_sync"] = "ok"
	if err == nil {
		details["final_sync_ms"] = time.Since(start).Milliseconds()
		return nil
	}
	if fctx.Err() != nil && ctx.Err() == nil {
		err = fmt.Errorf("%w (it did not finish within containers.final_sync_timeout, %s)", err, s.finalSyncTimeout)
	}
	verb := map[string]string{"container.stop": "stop", "container.remove": "remove"}[action]
	if force {
		details["final_sync"], details["forced"] = "failed: "+err.Error(), true
		s.o.Log.Warn("final sync failed; going on because of --force", "container", object(c), "action", action, "err", err)
		return nil
	}
	msg := fmt.Sprintf("%s container %q refused: its notebook edits could not all be saved (%v); fix the cause and try again, or pass --force to %s it and lose the unsaved edits",
		verb, c.Name, err, verb)
	s.record(ctx, audit.Event{User: p.User, Action: action, Object: object(c), Result: audit.ResultFailure, Message: msg,
		Details: map[string]any{"final_sync": "failed", "owner": c.Owner}})
	return errdefs.Conflict(msg)
}
