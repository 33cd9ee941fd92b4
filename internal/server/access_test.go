package server_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/dockyard/dockyard/internal/access"
	"github.com/dockyard/dockyard/internal/client"
	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/server/servertest"
	"github.com/dockyard/dockyard/internal/wire"
)

// TestNoEscalationThroughUserAdministration gives a user edit_user and
// edit_roles without admin: they may manage users and roles up to their own
// level, but neither grant (themselves included) nor create what they do
// not hold, nor take over a more powerful account; every refusal is
// audited as denied.
func TestNoEscalationThroughUserAdministration(t *testing.T) {
	h := servertest.Start(t)
	ctx := context.Background()
	if _, err := h.Admin.AddRole(ctx, wire.RoleRequest{Name: "useradmin",
		Capabilities: []string{string(access.CapEditUser), string(access.CapEditRoles)}, Inherit: []string{access.RoleUser}}); err != nil {
		t.Fatal(err)
	}
	ua := h.User("ua", "useradmin")
	strs := func(s ...string) *[]string { return &s }
	pw := "a-takeover-password"
	for _, tc := range []struct {
		name, action, want string
		call               func() error
	}{
		{"create an admin", "user.create", "capability admin_all_objects", func() error {
			_, err := ua.AddUser(ctx, wire.UserRequest{Name: "sock", Password: &pw, Roles: strs(access.RoleAdmin)})
			return err
		}},
		{"make itself admin", "user.update", "capability admin_all_objects", func() error {
			_, err := ua.UpdateUser(ctx, "ua", wire.UserRequest{Roles: strs("useradmin", access.RoleAdmin)})
			return err
		}},
		{"set the admin's password", "user.update", `user "admin" holds`, func() error {
			_, err := ua.UpdateUser(ctx, access.AdminUser, wire.UserRequest{Password: &pw})
			return err
		}},
		{"delete the admin", "user.delete", `user "admin" holds`, func() error { return ua.DeleteUser(ctx, access.AdminUser) }},
		{"create a role inheriting admin", "role.create", "capability read_audit", func() error {
			_, err := ua.AddRole(ctx, wire.RoleRequest{Name: "root", Inherit: []string{access.RoleAdmin}})
			return err
		}},
		{"create a role with a capability it lacks", "role.create", "capability admin_all_objects", func() error {
			_, err := ua.AddRole(ctx, wire.RoleRequest{Name: "root", Capabilities: []string{string(access.CapAdminAllObjects)}})
			return err
		}},
		{"create a role reading _internal", "role.create", "index _internal", func() error {
			_, err := ua.AddRole(ctx, wire.RoleRequest{Name: "root", SearchIndexes: []string{"_internal"}})
			return err
		}},
		{"give its own role a capability it lacks", "role.update", "capability admin_all_objects", func() error {
			_, err := ua.UpdateRole(ctx, "useradmin", wire.RoleRequest{Capabilities: []string{string(access.CapEditUser), string(access.CapEditRoles), string(access.CapAdminAllObjects)}, Inherit: []string{access.RoleUser}})
			return err
		}},
		{"make the user role inherit admin", "role.update", "capability read_audit", func() error {
			_, err := ua.UpdateRole(ctx, access.RoleUser, wire.RoleRequest{Capabilities: []string{string(access.CapSearch)}, Inherit: []string{access.RoleAdmin}})
			return err
		}},
		{"change the admin role", "role.update", "admin role cannot be changed", func() error {
			_, err := ua.UpdateRole(ctx, access.RoleAdmin, wire.RoleRequest{Capabilities: []string{string(access.CapSearch)}})
			return err
		}},
	} {
		if err := tc.call(); !errdefs.IsPermissionDenied(err) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v; want 403 naming %s", tc.name, err, tc.want)
		}
	}
	// Within its own level it works.
	if _, err := ua.AddUser(ctx, wire.UserRequest{Name: "dave", Password: &pw, Roles: strs(access.RoleUser)}); err != nil {
		t.Fatalf("create a plain user: %v", err)
	}
	pw2 := "another-password-1"
	if _, err := ua.UpdateUser(ctx, "dave", wire.UserRequest{Password: &pw2}); err != nil {
		t.Fatalf("change a plain user's password: %v", err)
	}
	if _, err := ua.AddRole(ctx, wire.RoleRequest{Name: "searcher", Capabilities: []string{string(access.CapSearch)}}); err != nil {
		t.Fatalf("create a role within its own capabilities: %v", err)
	}
	if _, err := h.Client("").Login(ctx, access.AdminUser, servertest.AdminPassword); err != nil {
		t.Fatalf("the admin's password changed: %v", err)
	}
	if w, err := ua.Whoami(ctx); err != nil || slices.Contains(w.Roles, access.RoleAdmin) {
		t.Fatalf("ua after the attempts: %+v, %v", w, err)
	}
	evs := auditEvents(t, h)
	for _, action := range []string{"user.create", "user.update", "user.delete", "role.create", "role.update"} {
		if findEvent(evs, "ua", action, "denied") == nil {
			t.Errorf("the refused %s is not audited as denied", action)
		}
	}
	if e := findEvent(evs, "ua", "user.delete", "denied"); e != nil && e.Event.Object != "user:admin" {
		t.Errorf("denied user.delete names %q, want user:admin", e.Event.Object)
	}
}

// TestRefusalsInsideAccessRoutesAreAudited covers the refusals an access
// route finds after its capability check: they are audited as denied,
// naming the object, like the capability refusals.
func TestRefusalsInsideAccessRoutesAreAudited(t *testing.T) {
	h := servertest.Start(t)
	ctx := context.Background()
	alice := h.User("alice", access.RoleUser)
	if _, err := alice.Tokens(ctx, true); !errdefs.IsPermissionDenied(err) || !strings.Contains(err.Error(), "edit_tokens_all") {
		t.Fatalf("alice lists everybody's tokens: %v; want 403 naming edit_tokens_all", err)
	}
	if err := h.Admin.DeleteRole(ctx, access.RoleUser); !errdefs.IsPermissionDenied(err) || !strings.Contains(err.Error(), "built in") {
		t.Fatalf("deleting a built-in role: %v; want 403", err)
	}
	evs := auditEvents(t, h)
	if findEvent(evs, "alice", "token.list", "denied") == nil {
		t.Error("alice's refused token listing is not audited as denied")
	}
	if e := findEvent(evs, "admin", "role.delete", "denied"); e == nil || e.Event.Object != "role:user" {
		t.Errorf("the refused deletion of a built-in role: %+v; want a denied event naming role:user", e)
	}
}

// TestAppContextMustBeAnAppName refuses an app context (Dockyard-App, a
// search's app, a lookup route's ?app=) that is not an app name:
// "search/alice" would make an app-shared object's audit name (app/name)
// read like alice's private one (app/owner/name).
func TestAppContextMustBeAnAppName(t *testing.T) {
	h := servertest.Start(t)
	ctx := context.Background()
	tok, err := h.Admin.CreateToken(ctx, wire.TokenRequest{Name: "app-test"})
	if err != nil {
		t.Fatal(err)
	}
	for _, app := range []string{"search/alice", "Search", "../x", "a b"} {
		c, err := client.New(client.Options{Server: h.Srv.URL(), CAFile: h.Srv.CAFile(), Token: tok.Token, App: app})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Whoami(ctx); !errdefs.IsInvalid(err) || !strings.Contains(err.Error(), "app name") {
			t.Errorf("Dockyard-App %q: %v; want 400 naming the app name rule", app, err)
		}
		if _, err := h.Admin.SearchAll(ctx, "| makeresults", app); !errdefs.IsInvalid(err) || !strings.Contains(err.Error(), "app name") {
			t.Errorf("search in app %q: %v; want 400 naming the app name rule", app, err)
		}
	}
	for _, path := range []string{"/v1/lookups?name=t.csv&app=search%2Falice", "/v1/lookups?app=search:x"} {
		_, err := h.Admin.Raw(ctx, "POST", path, strings.NewReader("a,b\n1,2\n"), "text/csv")
		if strings.Contains(path, "name=") && (!errdefs.IsInvalid(err) || !strings.Contains(err.Error(), "app name")) {
			t.Errorf("lookup upload to %s: %v; want 400 naming the app name rule", path, err)
		}
		_, err = h.Admin.Raw(ctx, "GET", path, nil, "")
		if !errdefs.IsInvalid(err) || !strings.Contains(err.Error(), "app name") {
			t.Errorf("lookup list %s: %v; want 400 naming the app name rule", path, err)
		}
	}
	c, err := client.New(client.Options{Server: h.Srv.URL(), CAFile: h.Srv.CAFile(), Token: tok.Token, App: "dsdl"})
	if err != nil {
		t.Fatal(err)
	}
	// An app that does not exist is not found, for administrators too.
	if _, err := c.Whoami(ctx); !errdefs.IsNotFound(err) || !strings.Contains(err.Error(), "app not found: dsdl") {
		t.Errorf("whoami in the missing app dsdl: %v", err)
	}
	if _, err := h.Admin.CreateApp(ctx, wire.AppRequest{Name: "dsdl"}); err != nil {
		t.Fatal(err)
	}
	if w, err := c.Whoami(ctx); err != nil || w.App != "dsdl" {
		t.Errorf("whoami in app dsdl = %+v, %v", w, err)
	}
}

// TestRefusedSearchIsAuditedAsDenied: a search refused with 403 (here a fit
// that would have to start a container the user may not start) is a denied
// event, like the refusals of every other route.
func TestRefusedSearchIsAuditedAsDenied(t *testing.T) {
	h := servertest.Start(t)
	ctx := context.Background()
	bob := h.User("bob", access.RoleUser)
	_, err := bob.SearchAll(ctx, "| makeresults | eval x=1, y=2 | fit MLTKContainer algo=lr y from x into m", "")
	if !errdefs.IsPermissionDenied(err) || !strings.Contains(err.Error(), "control_mltk_container") {
		t.Fatalf("plain user fit: %v; want 403 naming control_mltk_container", err)
	}
	evs := auditEvents(t, h)
	if e := findEvent(evs, "bob", "search", "denied"); e == nil || !strings.Contains(e.Event.Message, "control_mltk_container") {
		t.Errorf("the refused search is not audited as denied: %+v", e)
	}
	if e := findEvent(evs, "bob", "search", "failure"); e != nil {
		t.Errorf("the refused search is audited as a failure too: %+v", e)
	}
}
