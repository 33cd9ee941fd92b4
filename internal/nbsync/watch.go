package nbsync

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/dockyard/dockyard/internal/access"
	"github.com/dockyard/dockyard/internal/audit"
	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/store"
)

// Changer is an agent with a change feed (GET /v1/changes):
// agentclient.Client implements it. Changes waits up to wait for the feed
// to pass after and returns its sequence number.
type Changer interface {
	Changes(ctx context.Context, after uint64, wait time.Duration) (uint64, error)
}

// changesWait is how long one long poll of an agent's change feed lasts.
const changesWait = 25 * time.Second

// eligible reports whether c is a container the sync serves.
func eligible(c store.Container) bool {
	return c.Status == "running" && c.Runtime != "external" && c.RuntimeID != "" && c.Owner != ""
}

// Watch follows the change feed of every running container until ctx
// ends, syncing a container as soon as its agent reports that its files
// changed and settled (push-based sync: the agent says when, the server
// pulls over the connection it already authenticates). It looks for newly
// running containers every scan. A follower's first poll answers at once,
// so each start of a container (a restarted agent included) is synced in
// full. A sync that fails is retried, with backoff, until it succeeds.
func (s *Syncer) Watch(ctx context.Context, scan time.Duration) {
	if scan <= 0 {
		s.o.Log.Info("push-based notebook sync is off (watch scan interval is not positive)")
		return
	}
	followers := map[string]context.CancelFunc{}
	defer func() {
		for _, cancel := range followers {
			cancel()
		}
	}()
	t := time.NewTicker(scan)
	defer t.Stop()
	for {
		if cs, err := s.o.Containers.List(ctx); err != nil {
			if ctx.Err() == nil {
				s.o.Log.Warn("notebook sync: listing containers to follow", "err", err)
			}
		} else {
			seen := map[string]bool{}
			for _, c := range cs {
				if !eligible(c) {
					continue
				}
				key := startKey(c)
				seen[key] = true
				if _, ok := followers[key]; !ok {
					fctx, cancel := context.WithCancel(ctx)
					followers[key] = cancel
					go s.follow(fctx, c)
				}
			}
			for k, cancel := range followers {
				if !seen[k] {
					cancel()
					delete(followers, k)
				}
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// follow long-polls one container start's change feed and syncs it after
// each change; the feed position moves only once a sync succeeded.
func (s *Syncer) follow(ctx context.Context, c store.Container) {
	var after uint64
	backoff := 250 * time.Millisecond
	for ctx.Err() == nil {
		err := func() error {
			ag, err := s.o.Dial(ctx, c)
			if err != nil {
				return err
			}
			ch, ok := ag.(Changer)
			if !ok {
				return errdefs.Unavailable("the agent has no change feed")
			}
			seq, err := ch.Changes(ctx, after, changesWait)
			if err != nil || seq == after {
				return err
			}
			if err := s.SyncContainer(ctx, c); err != nil {
				return err
			}
			after = seq
			return nil
		}()
		if err == nil {
			backoff = 250 * time.Millisecond
			continue
		}
		if ctx.Err() != nil {
			return
		}
		s.o.Log.Debug("notebook sync: following a container", "container", display(c), "err", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 5*time.Second)
	}
}

// SyncContainer syncs one running container now (its notebooks out,
// missing ones in after its start). It fails when any notebook could not
// be stored (one that is not valid yet is skipped, as in a pass).
func (s *Syncer) SyncContainer(ctx context.Context, c store.Container) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var rep Report
	if err := s.syncContainer(ctx, c, startKey(c), &rep); err != nil {
		return err
	}
	if len(rep.Failed) > 0 {
		return errdefs.Unavailable("notebook sync: " + strings.Join(rep.Failed, "; "))
	}
	return nil
}

// Flush is the final sync of a container about to stop or be removed: it
// stores every notebook edit the container holds and fails, naming the
// files, when any edit is not in the store afterwards (unreachable agent,
// store error, or a notebook that is not valid). It is bounded by ctx.
// A failure is an audit event notebook.sync with result failure.
func (s *Syncer) Flush(ctx context.Context, c store.Container) error {
	if !eligible(c) {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var rep Report
	err := func() error {
		p, err := s.o.Principals.EffectivePrincipal(ctx, c.Owner, "")
		if err != nil {
			return fmt.Errorf("owner %q: %w", c.Owner, err)
		}
		ag, err := s.o.Dial(ctx, c)
		if err != nil {
			return err
		}
		files, err := ag.ListNotebooks(ctx)
		if err != nil {
			return err
		}
		var errs []error
		for _, f := range files {
			if err := s.syncOut(ctx, c, startKey(c), p, ag, f, &rep); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", f.Path, err))
			}
		}
		for _, inv := range rep.Invalid {
			errs = append(errs, errdefs.Invalid(strings.TrimPrefix(inv, display(c)+": ")+": not a valid notebook, so it cannot be stored"))
		}
		return errors.Join(errs...)
	}()
	if err == nil {
		return nil
	}
	s.recordFailure(ctx, c, "final sync", err)
	return fmt.Errorf("final notebook sync of container %q: %w", display(c), err)
}

// recordFailure audits a sync that failed (deduplicated per container
// start and message by the caller's choice of when to call).
func (s *Syncer) recordFailure(ctx context.Context, c store.Container, what string, err error) {
	s.o.Log.Warn("notebook sync failed", "container", display(c), "owner", c.Owner, "what", what, "err", err)
	s.record(ctx, audit.Event{User: access.SystemUser, Action: "notebook.sync", Object: "container:" + display(c), Result: audit.ResultFailure,
		Message: what + " failed: " + err.Error(), Details: map[string]any{"container": display(c), "owner": c.Owner}})
}
