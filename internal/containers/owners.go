package containers

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/dockyard/dockyard/internal/access"
	"github.com/dockyard/dockyard/internal/audit"
	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/runtime"
	"github.com/dockyard/dockyard/internal/store"
)

// Containers belong to someone. Its owner (the user who started or
// registered it) and holders of admin_all_objects may do everything with a
// container; holders of a role the owner shared it with (Share) may run
// code in it (fit, apply, summary, notebook placement) and see it listed,
// but not stop, remove, restart, read the logs of or re-share it. Another
// user's development container (USER/__dev__) is for administrators only.
// Everyone else is told the container does not exist, in exactly the
// words used for a name that does not exist, and the refusal is audited.
// Every verb also needs control_mltk_container (but for administrators).

// verb is what a caller wants to do with a container.
type verb int

const (
	// verbRun: run code in it (fit, apply, summary, notebook placement).
	verbRun verb = iota
	// verbManage: start, stop, remove, read the logs of, share, register again.
	verbManage
)

// RoleChecker finds roles by name (*access.Service).
type RoleChecker interface {
	GetRole(ctx context.Context, name string) (store.Role, error)
}

func isAdmin(p *access.Principal) bool { return p.Can(access.CapAdminAllObjects) }

// owns reports whether c is p's.
func owns(p *access.Principal, c store.Container) bool {
	return p != nil && c.Owner == p.User && (c.Scope == "" || c.Scope == p.User)
}

// sharedWith reports whether c is shared with one of p's roles.
func sharedWith(p *access.Principal, c store.Container) bool {
	return p != nil && c.Scope == "" && slices.ContainsFunc(c.Roles, p.HasRole)
}

func may(p *access.Principal, c store.Container, v verb) bool {
	return isAdmin(p) || owns(p, c) || v == verbRun && sharedWith(p, c)
}

// notFound is the answer for a container that does not exist, and for one
// the caller may not know of.
func notFound(name string) error {
	return errdefs.NotFound("container not found: " + name)
}

// notFoundToRun is notFound for container= of a fit, apply or summary.
func notFoundToRun(name string) error {
	if strings.Contains(name, "/") {
		return notFound(name)
	}
	return errdefs.NotFoundf("container not found: %s; start it with `dockyard containers start %s`, or leave container= out to use your development container", name, name)
}

// find returns the record name means to p for verb v, or nf(name) when it
// does not exist or p may not know of it (audited as a denied action; the
// audit event says why).
func (s *Service) find(ctx context.Context, p *access.Principal, name string, v verb, action string, nf func(string) error) (store.Container, error) {
	display := name
	if display == "" {
		display = DevName
	}
	n, sc, err := scope(p, name)
	if err != nil {
		return store.Container{}, err
	}
	if sc != "" && sc != p.User && !isAdmin(p) {
		s.denied(ctx, p, action, store.Container{Name: n, Scope: sc}, "another user's development container is for administrators only")
		return store.Container{}, nf(display)
	}
	c, err := s.o.Store.GetContainer(ctx, n, sc)
	switch {
	case errdefs.IsNotFound(err) && n == DevName && sc == p.User:
		return c, errdefs.NotFoundf("container not found: %s (you have no development container; another user's is addressed as USER/%s)", DevName, DevName)
	case errdefs.IsNotFound(err):
		return c, nf(display)
	case err != nil:
		return c, err
	}
	if !may(p, c, v) {
		why := "not its owner, and it is not shared with any of the caller's roles"
		if sharedWith(p, c) {
			why = "shared with one of the caller's roles, which lets them run code in it, not manage it"
		}
		s.denied(ctx, p, action, c, why)
		return store.Container{}, nf(display)
	}
	return c, nil
}

// denied audits a refused container operation.
func (s *Service) denied(ctx context.Context, p *access.Principal, action string, c store.Container, msg string) {
	s.record(ctx, audit.Event{User: p.User, Action: action, Object: object(c), Result: audit.ResultDenied, Message: msg,
		Details: map[string]any{"owner": c.Owner}})
}

// checkIsolated refuses everyone but administrators on a runtime whose
// containers are not a security boundary, with the runtime's reason.
func (s *Service) checkIsolated(p *access.Principal, rtName, name, what string) error {
	rt, ok := s.o.Runtimes[rtName]
	if !ok || isAdmin(p) {
		return nil
	}
	if ok, why := runtime.IsIsolated(rt); !ok {
		return errdefs.PermissionDeniedf("permission denied: %s container %q: the %s runtime does not isolate containers on this server (%s), so only administrators may start containers or run code there",
			what, name, rtName, why)
	}
	return nil
}

// checkRun checks that p may run code in c, which p may use: the
// capability, and an isolating runtime (both waived for administrators).
// A refusal is audited.
func (s *Service) checkRun(ctx context.Context, p *access.Principal, c store.Container) error {
	err := error(nil)
	if !isAdmin(p) {
		err = needCap(p, access.CapControlContainer, fmt.Sprintf("running code in container %q", c.Name))
	}
	if err == nil {
		err = s.checkIsolated(p, c.Runtime, c.Name, "running code in")
	}
	if err != nil {
		s.denied(ctx, p, "container.run", c, err.Error())
	}
	return err
}

// ListFor returns the containers p may see, refreshed: administrators
// (admin_all_objects) see every one; others their own and those shared
// with one of their roles.
func (s *Service) ListFor(ctx context.Context, p *access.Principal) ([]store.Container, error) {
	all, err := s.o.Store.ListContainers(ctx)
	if err != nil {
		return nil, err
	}
	var out []store.Container
	for _, c := range all {
		if may(p, c, verbRun) {
			out = append(out, s.refresh(ctx, c))
		}
	}
	return append(out, s.quarantinedFor(p)...), nil
}

// Share sets the roles the container name is shared with (none: only its
// owner). Only its owner and administrators may; development containers
// are never shared. It needs control_mltk_container and is audited
// (container.share), refusals too.
func (s *Service) Share(ctx context.Context, p *access.Principal, name string, roles []string) (store.Container, error) {
	n, sc, err := scope(p, name)
	if err != nil {
		return store.Container{}, err
	}
	if err := needCap(p, access.CapControlContainer, fmt.Sprintf("sharing container %q", n)); err != nil {
		s.denied(ctx, p, "container.share", store.Container{Name: n, Scope: sc}, err.Error())
		return store.Container{}, err
	}
	defer s.lock(n, sc)()
	c, err := s.find(ctx, p, name, verbManage, "container.share", notFound)
	if err != nil {
		return c, err
	}
	if c.Scope != "" {
		s.denied(ctx, p, "container.share", c, "development containers are not shared")
		return c, errdefs.Invalidf("container %q is a development container, which is private to its owner: start a named container (`dockyard containers start NAME`) to share one", name)
	}
	want, err := s.checkRoles(ctx, roles)
	if err != nil {
		return c, err
	}
	prev := c.Roles
	c.Roles, c.Updated = want, s.now()
	if err := s.o.Store.UpdateContainer(ctx, c); err != nil {
		return c, err
	}
	s.record(ctx, audit.Event{User: p.User, Action: "container.share", Object: object(c), Details: map[string]any{
		"roles": want, "previous": prev, "owner": c.Owner}})
	return c, nil
}

// checkRoles trims, sorts and de-duplicates roles, each of which must
// exist ("*" is every role).
func (s *Service) checkRoles(ctx context.Context, roles []string) ([]string, error) {
	out := []string{}
	for _, r := range roles {
		r = strings.TrimSpace(r)
		if r == "" || slices.Contains(out, r) {
			continue
		}
		if r != access.EveryoneRole && s.o.Roles != nil {
			if _, err := s.o.Roles.GetRole(ctx, r); errdefs.IsNotFound(err) {
				return nil, errdefs.Invalidf("unknown role %q: see `dockyard roles list`", r)
			} else if err != nil {
				return nil, err
			}
		}
		out = append(out, r)
	}
	slices.Sort(out)
	return out, nil
}
