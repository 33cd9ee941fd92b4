package containers

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/dockyard/dockyard/internal/access"
	"github.com/dockyard/dockyard/internal/audit"
	"github.com/dockyard/dockyard/internal/runtime"
	"github.com/dockyard/dockyard/internal/store"
)

// Report says what a reconcile pass did, by container name.
type Report struct {
	Adopted     []string // records whose container still exists
	Quarantined []string // containers of this server without a record: stopped, not removed
	Lost        []string // records whose container vanished
}

// Reconcile compares each runtime's containers labelled with this server's
// id against the records: containers with a record are adopted (the
// record's status is updated), containers without one are orphans, stopped
// and quarantined (kept for inspection, never removed silently), and
// records whose container vanished are marked lost. Every outcome is an
// audit event. Records whose start the server stopped in are marked
// failed (interrupted), giving back their GPUs. It runs at server start
// (and must run only then: no start may be in flight), and then every
// containers.reconcile_interval (RunReconciler).
func (s *Service) Reconcile(ctx context.Context) (Report, error) {
	return s.reconcile(ctx, false)
}

// RunReconciler runs a reconcile pass every interval until ctx ends.
// These passes leave records whose container still exists alone (the
// listing refreshes their status) and quarantine an orphan once, so only
// what changed is audited.
func (s *Service) RunReconciler(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		rep, err := s.reconcile(ctx, true)
		if err != nil {
			if ctx.Err() == nil {
				s.o.Log.Warn("reconcile pass", "err", err)
			}
			continue
		}
		if len(rep.Lost)+len(rep.Quarantined) > 0 {
			s.o.Log.Info("containers reconciled", "lost", rep.Lost, "quarantined", rep.Quarantined)
		}
	}
}

func (s *Service) reconcile(ctx context.Context, periodic bool) (Report, error) {
	var rep Report
	recs, err := s.o.Store.ListContainers(ctx)
	if err != nil {
		return rep, err
	}
	if !periodic {
		for _, rec := range recs {
			s.interrupted(ctx, rec)
		}
	}
	names := make([]string, 0, len(s.o.Runtimes))
	for n := range s.o.Runtimes {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, rtName := range names {
		rt := s.o.Runtimes[rtName]
		live, err := rt.List(ctx, map[string]string{runtime.LabelServerID: s.o.ServerID})
		if err != nil {
			s.o.Log.Warn("reconcile: listing containers", "runtime", rtName, "err", err)
			continue
		}
		byID := map[string]runtime.Container{}
		for _, c := range live {
			byID[c.ID] = c
		}
		claimed := map[string]bool{}
		for _, rec := range recs {
			if rec.Runtime != rtName || rec.RuntimeID == "" {
				continue
			}
			rc, ok := byID[rec.RuntimeID]
			if !ok && periodic {
				// Re-read: a record may have been created or removed
				// since the list (a start in progress).
				cur, err := s.o.Store.GetContainer(ctx, rec.Name, rec.Scope)
				if err != nil || cur.RuntimeID != rec.RuntimeID || cur.Status == StatusLost {
					continue
				}
				if _, err := rt.Inspect(ctx, rec.RuntimeID); err == nil {
					continue
				}
			}
			if !ok {
				if s.lost(ctx, rec) {
					rep.Lost = append(rep.Lost, object(rec))
				}
				continue
			}
			claimed[rc.ID] = true
			if periodic {
				continue
			}
			s.adopt(ctx, rec, rc)
			rep.Adopted = append(rep.Adopted, object(rec))
		}
		for _, rc := range live {
			if claimed[rc.ID] || periodic && s.isQuarantined(rtName, rc.ID) {
				continue
			}
			if periodic && s.claimedNow(ctx, rtName, rc.ID, rc.Labels) {
				continue // its record was written after the list
			}
			s.quarantine(ctx, rt, rtName, rc)
			rep.Quarantined = append(rep.Quarantined, rc.Name)
		}
	}
	return rep, nil
}

func (s *Service) adopt(ctx context.Context, rec store.Container, rc runtime.Container) {
	defer s.lock(rec.Name, rec.Scope)()
	switch rc.State {
	case runtime.StateRunning:
		rec.Status, rec.Endpoint, rec.Message = StatusRunning, rc.Endpoint, ""
	case runtime.StateCreated:
		rec.Status, rec.Endpoint = StatusCreated, ""
	default:
		rec.Status, rec.Endpoint = StatusExited, ""
		if rec.Desired == DesiredStopped {
			rec.Status = StatusStopped
		} else {
			rec.Message = "it stopped while the server was down; start it again"
		}
	}
	rec.Updated = s.now()
	if err := s.o.Store.UpdateContainer(ctx, rec); err != nil {
		s.o.Log.Warn("reconcile: updating container", "container", rec.Name, "err", err)
	}
	s.record(ctx, audit.Event{User: access.SystemUser, Action: "container.adopt", Object: object(rec),
		Details: map[string]any{"runtime": rec.Runtime, "runtime_id": rc.ID, "state": string(rc.State), "owner": rec.Owner}})
}

func (s *Service) lost(ctx context.Context, rec store.Container) bool {
	defer s.lock(rec.Name, rec.Scope)()
	// Read again under the lock: a removal or a new start may have
	// finished since the list.
	cur, err := s.o.Store.GetContainer(ctx, rec.Name, rec.Scope)
	if err != nil || cur.RuntimeID != rec.RuntimeID {
		return false
	}
	rec = cur
	old := rec.RuntimeID
	rec.Status, rec.Endpoint, rec.RuntimeID, rec.Updated = StatusLost, "", "", s.now()
	rec.Message = fmt.Sprintf("its container %s vanished from the %s runtime while the server was down; start it again", old, rec.Runtime)
	if err := s.o.Store.UpdateContainer(ctx, rec); err != nil {
		s.o.Log.Warn("reconcile: updating container", "container", rec.Name, "err", err)
	}
	s.record(ctx, audit.Event{User: access.SystemUser, Action: "container.lost", Object: object(rec), Result: audit.ResultFailure,
		Message: rec.Message, Details: map[string]any{"runtime": rec.Runtime, "runtime_id": old}})
	return true
}

// quarantine stops an orphan (a container of this server without a
// record) and reports it; it is kept so that an operator can inspect it.
func (s *Service) quarantine(ctx context.Context, rt runtime.Runtime, rtName string, rc runtime.Container) {
	result, msg := audit.ResultSuccess, "container of this server without a record: stopped and kept for inspection"
	if rc.State == runtime.StateRunning {
		if err := rt.Stop(ctx, rc.ID, s.o.StopGrace); err != nil {
			result, msg = audit.ResultFailure, "orphan container could not be stopped: "+err.Error()
		}
	}
	s.noteQuarantined(rtName, rc)
	s.o.Log.Warn("reconcile: quarantined an orphan container", "runtime", rtName, "id", rc.ID, "name", rc.Name,
		"container", rc.Labels[runtime.LabelContainer], "owner", rc.Labels[runtime.LabelOwner], "result", result)
	s.record(ctx, audit.Event{User: access.SystemUser, Action: "container.quarantine", Object: "container:" + rc.Name, Result: result, Message: msg,
		Details: map[string]any{"runtime": rtName, "runtime_id": rc.ID, "state": string(rc.State),
			"container": rc.Labels[runtime.LabelContainer], "owner": rc.Labels[runtime.LabelOwner]}})
}

// interrupted marks failed a record whose start the server stopped in
// (at server start no start is in flight): it claimed its GPUs but got no
// runtime container, and would otherwise hold them until stopped.
func (s *Service) interrupted(ctx context.Context, rec store.Container) {
	if rec.RuntimeID != "" || rec.Runtime == RuntimeExternal || rec.Desired != DesiredRunning ||
		(rec.Status != StatusStarting && rec.Status != StatusCreated) {
		return
	}
	defer s.lock(rec.Name, rec.Scope)()
	rec.Status, rec.Endpoint, rec.Updated = StatusFailed, "", s.now()
	rec.Message = "the server stopped while starting it; start it again"
	if err := s.o.Store.UpdateContainer(ctx, rec); err != nil {
		s.o.Log.Warn("reconcile: updating container", "container", rec.Name, "err", err)
		return
	}
	s.record(ctx, audit.Event{User: access.SystemUser, Action: "container.start", Object: object(rec), Result: audit.ResultFailure,
		Message: rec.Message, Details: map[string]any{"runtime": rec.Runtime, "owner": rec.Owner, "gpus": rec.GPUs}})
}
