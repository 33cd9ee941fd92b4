package containers

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/dockyard/dockyard/internal/access"
	"github.com/dockyard/dockyard/internal/audit"
	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/runtime"
	"github.com/dockyard/dockyard/internal/store"
)

// StatusQuarantined is the status listings show for an orphan: a
// container of this server without a record, stopped by the reconciler
// and kept until someone removes it.
const StatusQuarantined = "quarantined"

// quarantineKey names an orphan in the service's memory.
func quarantineKey(rtName, id string) string { return rtName + "\x00" + id }

func (s *Service) isQuarantined(rtName, id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.quarantined[quarantineKey(rtName, id)]
	return ok
}

func (s *Service) noteQuarantined(rtName string, rc runtime.Container) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.quarantined == nil {
		s.quarantined = map[string]quarantinedContainer{}
	}
	s.quarantined[quarantineKey(rtName, rc.ID)] = quarantinedContainer{runtime: rtName, c: rc}
}

type quarantinedContainer struct {
	runtime string
	c       runtime.Container
}

// claimedNow reports whether the orphan rc has a record after all: it
// takes the lock of the record its labels name (a start holds it from
// creating the container until the record names it) and reads it again.
func (s *Service) claimedNow(ctx context.Context, rtName, id string, labels map[string]string) bool {
	name, owner := labels[runtime.LabelContainer], labels[runtime.LabelOwner]
	sc := ""
	if name == DevName {
		sc = owner
	}
	defer s.lock(name, sc)()
	rec, err := s.o.Store.GetContainer(ctx, name, sc)
	return err == nil && rec.Runtime == rtName && rec.RuntimeID == id
}

// quarantinedFor lists the orphans p may see (administrators all, others
// those labelled with their name) as records with status quarantined and
// their runtime name as name.
func (s *Service) quarantinedFor(p *access.Principal) []store.Container {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []store.Container
	for _, q := range s.quarantined {
		owner := q.c.Labels[runtime.LabelOwner]
		if !isAdmin(p) && owner != p.User {
			continue
		}
		out = append(out, store.Container{Name: q.c.Name, Runtime: q.runtime, RuntimeID: q.c.ID, Owner: owner, Status: StatusQuarantined,
			Message: fmt.Sprintf("orphan of container %q (no record): stopped and kept; remove it with: dockyard containers remove %s --force", q.c.Labels[runtime.LabelContainer], q.c.Name)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// removeQuarantined removes the orphan whose runtime name is name, when p
// may see it. An orphan is stopped, so its notebooks cannot be synced
// through its agent; removing it needs force (its owner accepts that
// what it holds is gone, or saved it by other means), and is audited.
func (s *Service) removeQuarantined(ctx context.Context, p *access.Principal, name string, force bool) (bool, error) {
	var found *quarantinedContainer
	for _, c := range s.quarantinedFor(p) {
		if c.Name == name {
			s.mu.Lock()
			q := s.quarantined[quarantineKey(c.Runtime, c.RuntimeID)]
			s.mu.Unlock()
			found = &q
		}
	}
	if found == nil {
		return false, nil
	}
	obj := "container:" + name
	if !force {
		msg := fmt.Sprintf("container %q is a quarantined orphan: its files cannot be synced (it has no record, so it is not started again); copy what you need out of it, then remove it with --force", name)
		s.record(ctx, audit.Event{User: p.User, Action: "container.remove", Object: obj, Result: audit.ResultFailure, Message: msg})
		return true, errdefs.Conflict(msg)
	}
	rt, ok := s.o.Runtimes[found.runtime]
	if !ok {
		return true, errdefs.Unavailablef("container %q: runtime %s is not available", name, found.runtime)
	}
	if err := rt.Remove(ctx, found.c.ID); err != nil && !errdefs.IsNotFound(err) {
		s.record(ctx, audit.Event{User: p.User, Action: "container.remove", Object: obj, Result: audit.ResultFailure, Message: err.Error()})
		return true, fmt.Errorf("removing quarantined container %q: %w", name, err)
	}
	s.mu.Lock()
	delete(s.quarantined, quarantineKey(found.runtime, found.c.ID))
	s.mu.Unlock()
	s.record(ctx, audit.Event{User: p.User, Action: "container.remove", Object: obj, Message: "quarantined orphan removed (forced)",
		Details: map[string]any{"runtime": found.runtime, "runtime_id": found.c.ID, "quarantined": true, "forced": true,
			"owner": found.c.Labels[runtime.LabelOwner], "container": found.c.Labels[runtime.LabelContainer]}})
	return true, nil
}

// orphanNamed reports whether name may address a quarantined orphan: a
// development container's runtime name (dev-USER), or a name no record
// has.
func (s *Service) orphanNamed(ctx context.Context, name string) bool {
	if strings.HasPrefix(name, "dev-") {
		return true
	}
	_, err := s.o.Store.GetContainer(ctx, name, "")
	return errdefs.IsNotFound(err)
}
