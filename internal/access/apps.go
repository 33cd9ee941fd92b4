package access

import (
	"context"
	"slices"
	"strings"

	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/store"
)

// CapManageApps is the capability that creates, changes and deletes apps:
// admin_all_objects, since an app decides who reaches every knowledge object
// in it.
const CapManageApps = CapAdminAllObjects

// Roles of the default app (and of every app that a migration creates).
var (
	DefaultAppRead  = []string{EveryoneRole}
	DefaultAppWrite = []string{RoleAdmin, RolePower}
)

// AppPerm says what a principal may do in an app: Read uses it as the
// request's app context and sees what is shared in it; Write shares
// objects into it.
type AppPerm struct {
	Read  bool `json:"read"`
	Write bool `json:"write"`
}

// AppSet maps app names to the principal's permissions there. An app that
// is not in the set (or does not exist) allows nothing.
type AppSet map[string]AppPerm

// MemberOf returns an AppSet with read and write on every app named, for
// principals made outside the access service (tests, tools).
func MemberOf(apps ...string) AppSet {
	s := AppSet{}
	for _, a := range apps {
		s[a] = AppPerm{Read: true, Write: true}
	}
	return s
}

// AppNotFound is the one answer for an app that does not exist and for one
// the caller may not read.
func AppNotFound(name string) error {
	return errdefs.NotFound("app not found: " + name)
}

// IsAppNotFound reports whether err is AppNotFound's answer.
func IsAppNotFound(err error) bool {
	return errdefs.IsNotFound(err) && strings.Contains(err.Error(), "app not found: ")
}

// CanReadApp reports whether the principal may use app as its context and
// see what is shared in it; an app that does not exist is read by nobody,
// administrators included. A principal without app permissions (Apps nil:
// one made by code rather than by the access service, which always sets
// them) reads its own app context, and every app if it holds
// admin_all_objects.
func (p *Principal) CanReadApp(app string) bool {
	if p == nil || app == "" {
		return false
	}
	if p.Apps == nil {
		return app == p.App || p.Can(CapAdminAllObjects)
	}
	return p.Apps[app].Read
}

// CanWriteApp reports whether the principal may share objects into app.
func (p *Principal) CanWriteApp(app string) bool {
	if p == nil || app == "" {
		return false
	}
	if p.Apps == nil {
		return p.Can(CapAdminAllObjects)
	}
	return p.Apps[app].Read && p.Apps[app].Write
}

// appSet works out p's permissions in every app from its roles.
func appSet(p *Principal, apps []store.App) AppSet {
	s := make(AppSet, len(apps))
	for _, a := range apps {
		all := p.Can(CapAdminAllObjects)
		s[a.Name] = AppPerm{Read: all || p.anyRole(a.Read), Write: all || p.anyRole(a.Write)}
	}
	return s
}

// checkAppRoles validates an app's role list: "*" or existing roles,
// sorted without duplicates.
func (s *Service) checkAppRoles(ctx context.Context, what string, roles []string) ([]string, error) {
	known, err := s.roleMap(ctx)
	if err != nil {
		return nil, err
	}
	out := []string{}
	for _, r := range roles {
		r = strings.TrimSpace(r)
		if _, ok := known[r]; !ok && r != EveryoneRole {
			return nil, errdefs.Invalidf("%s role %q does not exist: see \"dockyard roles list\" (\"*\" means every role)", what, r)
		}
		out = append(out, r)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// CreateApp creates an app with read and write roles (nil read: every
// role; nil write: admin and power, as for the default app). Capability
// checks are the API's job.
func (s *Service) CreateApp(ctx context.Context, name string, read, write []string, by string) (store.App, error) {
	if err := ValidateApp(name); err != nil {
		return store.App{}, err
	}
	if read == nil {
		read = DefaultAppRead
	}
	if write == nil {
		write = DefaultAppWrite
	}
	var err error
	if read, err = s.checkAppRoles(ctx, "read", read); err != nil {
		return store.App{}, err
	}
	if write, err = s.checkAppRoles(ctx, "write", write); err != nil {
		return store.App{}, err
	}
	now := s.utcNow()
	a := store.App{Name: name, Read: read, Write: write, CreatedBy: by, Created: now, Updated: now}
	if err := s.st.CreateApp(ctx, a); err != nil {
		if errdefs.IsConflict(err) {
			return store.App{}, errdefs.Conflictf("app %s already exists: change it with `dockyard apps update %s`", name, name)
		}
		return store.App{}, err
	}
	return a, nil
}

// GetApp returns the app name for p: an app p may not read is not found.
func (s *Service) GetApp(ctx context.Context, p *Principal, name string) (store.App, error) {
	if err := ValidateApp(name); err != nil {
		return store.App{}, err
	}
	a, err := s.st.GetApp(ctx, name)
	if errdefs.IsNotFound(err) || err == nil && !p.CanReadApp(name) {
		return store.App{}, AppNotFound(name)
	}
	return a, err
}

// ListApps returns the apps p may read.
func (s *Service) ListApps(ctx context.Context, p *Principal) ([]store.App, error) {
	all, err := s.st.ListApps(ctx)
	if err != nil {
		return nil, err
	}
	out := []store.App{}
	for _, a := range all {
		if p.CanReadApp(a.Name) {
			out = append(out, a)
		}
	}
	return out, nil
}

// AppUpdate names the role lists UpdateApp changes; nil lists stay.
type AppUpdate struct {
	Read  []string
	Write []string
}

// UpdateApp changes an app's read and write roles and returns the app
// before and after.
func (s *Service) UpdateApp(ctx context.Context, p *Principal, name string, up AppUpdate) (before, after store.App, err error) {
	before, err = s.GetApp(ctx, p, name)
	if err != nil {
		return before, after, err
	}
	after = before
	if up.Read != nil {
		if after.Read, err = s.checkAppRoles(ctx, "read", up.Read); err != nil {
			return before, after, err
		}
	}
	if up.Write != nil {
		if after.Write, err = s.checkAppRoles(ctx, "write", up.Write); err != nil {
			return before, after, err
		}
	}
	after.Updated = s.utcNow()
	if err := s.st.UpdateApp(ctx, after); err != nil {
		if errdefs.IsNotFound(err) {
			return before, after, AppNotFound(name)
		}
		return before, after, err
	}
	return before, after, nil
}

// DeleteApp deletes an app in which no object lives; otherwise it says
// what is still in it. The default app stays.
func (s *Service) DeleteApp(ctx context.Context, p *Principal, name string) (store.App, error) {
	a, err := s.GetApp(ctx, p, name)
	if err != nil {
		return a, err
	}
	if name == DefaultApp {
		return a, errdefs.Invalidf("app %s is the default app and stays: change who may use it with `dockyard apps update %s`", name, name)
	}
	u, err := s.st.DeleteApp(ctx, name)
	switch {
	case errdefs.IsConflict(err):
		return a, errdefs.Conflictf("app %s is not empty: it still holds %d models, %d lookups and %d notebooks; delete them or ask their owners to, then delete the app",
			name, u.Models, u.Lookups, u.Notebooks)
	case errdefs.IsNotFound(err):
		return a, AppNotFound(name)
	}
	return a, err
}

// contextApp picks the app of a request for p: the app asked for, which p
// must be able to read (else "app not found", whether it exists or not);
// with none asked for, the user's default app, or the default app when p
// may not read that one.
func contextApp(p *Principal, asked, userDefault string) (string, error) {
	if asked != "" {
		if !p.CanReadApp(asked) {
			return "", AppNotFound(asked)
		}
		return asked, nil
	}
	if userDefault != "" && p.CanReadApp(userDefault) {
		return userDefault, nil
	}
	if !p.CanReadApp(DefaultApp) {
		return "", AppNotFound(DefaultApp)
	}
	return DefaultApp, nil
}
