package access

import (
	"slices"
	"testing"

	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/store"
)

func TestAppsMembership(t *testing.T) {
	f := newFixture(t)
	if _, err := f.svc.AddRole(f.ctx, store.Role{Name: "hr_team", Capabilities: []string{"search"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.AddRole(f.ctx, store.Role{Name: "hr_admin", Capabilities: []string{"search"}, Inherit: []string{"hr_team"}}); err != nil {
		t.Fatal(err)
	}
	f.addUser(t, "alice", RoleUser, "hr_team")
	f.addUser(t, "hal", RoleUser, "hr_admin")
	f.addUser(t, "bob", RoleUser)
	if _, err := f.svc.CreateApp(f.ctx, "hr", []string{"hr_team"}, []string{"hr_admin"}, "admin"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.CreateApp(f.ctx, "hr", nil, nil, "admin"); !errdefs.IsConflict(err) {
		t.Errorf("second hr: %v, want conflict", err)
	}
	if _, err := f.svc.CreateApp(f.ctx, "x", []string{"no_such_role"}, nil, "admin"); !errdefs.IsInvalid(err) {
		t.Errorf("unknown role: %v, want invalid", err)
	}
	if _, err := f.svc.CreateApp(f.ctx, "Bad/Name", nil, nil, "admin"); !errdefs.IsInvalid(err) {
		t.Errorf("bad name: %v, want invalid", err)
	}

	// A non-member's "hr" is the same answer as an app that does not exist.
	_, errHR := f.svc.EffectivePrincipal(f.ctx, "bob", "hr")
	_, errNone := f.svc.EffectivePrincipal(f.ctx, "bob", "nope")
	if !IsAppNotFound(errHR) || errHR.Error() != "app not found: hr" || !IsAppNotFound(errNone) {
		t.Errorf("bob in hr: %v; in nope: %v; want app not found", errHR, errNone)
	}
	alice, err := f.svc.EffectivePrincipal(f.ctx, "alice", "hr")
	if err != nil || alice.App != "hr" || !alice.CanReadApp("hr") || alice.CanWriteApp("hr") {
		t.Fatalf("alice in hr: %+v, %v; want a reader who may not write", alice, err)
	}
	hal, err := f.svc.EffectivePrincipal(f.ctx, "hal", "hr")
	if err != nil || !hal.CanWriteApp("hr") {
		t.Fatalf("hal in hr: %+v, %v; want a writer (hr_admin inherits hr_team)", hal, err)
	}
	// The default app: everyone reads, admin and power write.
	if alice.CanWriteApp(DefaultApp) || !alice.CanReadApp(DefaultApp) {
		t.Errorf("alice in search: %+v", alice.Apps[DefaultApp])
	}
	admin, _ := f.svc.EffectivePrincipal(f.ctx, AdminUser, "hr")
	if !admin.CanWriteApp("hr") || !admin.CanWriteApp(DefaultApp) {
		t.Errorf("admin may not write every app")
	}
	// Shared objects in an app reach only its readers.
	acl := ACL{Owner: "hal", App: "hr", Sharing: SharingGlobal}
	bob, _ := f.svc.EffectivePrincipal(f.ctx, "bob", "")
	if bob.CanRead(acl) || !alice.CanRead(acl) {
		t.Errorf("global object in hr: bob reads %v, alice reads %v; want false, true", bob.CanRead(acl), alice.CanRead(acl))
	}

	// Listing and showing hide apps the caller may not read.
	list, err := f.svc.ListApps(f.ctx, bob)
	if err != nil || len(list) != 1 || list[0].Name != DefaultApp {
		t.Errorf("bob's apps: %+v, %v", list, err)
	}
	if _, err := f.svc.GetApp(f.ctx, bob, "hr"); !IsAppNotFound(err) {
		t.Errorf("bob showing hr: %v", err)
	}
	// A user whose default app they may not read lands in the default app.
	if err := f.st.UpdateUser(f.ctx, store.User{Name: "bob", Roles: []string{RoleUser}, DefaultApp: "hr"}); err != nil {
		t.Fatal(err)
	}
	if p, err := f.svc.EffectivePrincipal(f.ctx, "bob", ""); err != nil || p.App != DefaultApp {
		t.Errorf("bob with default app hr: %+v, %v; want search", p, err)
	}

	// Update and delete.
	_, after, err := f.svc.UpdateApp(f.ctx, admin, "hr", AppUpdate{Read: []string{"hr_team", RoleUser}})
	if err != nil || !slices.Equal(after.Read, []string{"hr_team", RoleUser}) || !slices.Equal(after.Write, []string{"hr_admin"}) {
		t.Fatalf("UpdateApp: %+v, %v", after, err)
	}
	if _, err := f.st.CreateModel(f.ctx, store.Model{Name: "m", App: "hr", Owner: "alice", Sharing: "user"}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.DeleteApp(f.ctx, admin, "hr"); !errdefs.IsConflict(err) || err.Error() != "app hr is not empty: it still holds 1 models, 0 lookups and 0 notebooks; delete them or ask their owners to, then delete the app" {
		t.Errorf("DeleteApp(hr with a model): %v", err)
	}
	if _, err := f.svc.DeleteApp(f.ctx, admin, DefaultApp); !errdefs.IsInvalid(err) {
		t.Errorf("DeleteApp(search): %v, want invalid", err)
	}
	if _, err := f.svc.CreateApp(f.ctx, "tmp", nil, nil, "admin"); err != nil {
		t.Fatal(err)
	}
	admin, _ = f.svc.EffectivePrincipal(f.ctx, AdminUser, "") // a principal sees the apps of its request
	if _, err := f.svc.DeleteApp(f.ctx, admin, "tmp"); err != nil {
		t.Errorf("DeleteApp(tmp): %v", err)
	}
	if _, err := f.svc.DeleteApp(f.ctx, admin, "tmp"); !IsAppNotFound(err) {
		t.Errorf("DeleteApp(tmp) twice: %v", err)
	}
}
