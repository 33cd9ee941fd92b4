package access

import (
	"errors"
	"strings"
	"testing"

	"github.com/dockyard/dockyard/internal/errdefs"
)

func TestAddUserValidation(t *testing.T) {
	f := newFixture(t)
	f.addUser(t, "alice", RoleUser)
	tests := []struct {
		name    string
		nu      NewUser
		kind    error
		message string
	}{
		{"bad name", NewUser{Name: "Alice", Password: "long-enough", Roles: []string{"user"}}, errdefs.ErrInvalid, `user name "Alice"`},
		{"name with slash", NewUser{Name: "a/b", Password: "long-enough", Roles: []string{"user"}}, errdefs.ErrInvalid, "a-z, 0-9"},
		{"no roles", NewUser{Name: "bob", Password: "long-enough"}, errdefs.ErrInvalid, "at least one role"},
		{"unknown role", NewUser{Name: "bob", Password: "long-enough", Roles: []string{"user", "wizard"}}, errdefs.ErrInvalid, `unknown role "wizard"`},
		{"short password", NewUser{Name: "bob", Password: "short", Roles: []string{"user"}}, errdefs.ErrInvalid, "at least 8 characters"},
		{"empty password", NewUser{Name: "bob", Roles: []string{"user"}}, errdefs.ErrInvalid, "password is empty"},
		{"bad app", NewUser{Name: "bob", Password: "long-enough", Roles: []string{"user"}, DefaultApp: "A B"}, errdefs.ErrInvalid, `app name "A B"`},
		{"reserved name", NewUser{Name: SystemUser, Password: "long-enough", Roles: []string{"user"}}, errdefs.ErrInvalid, `"system" is reserved`},
		{"duplicate", NewUser{Name: "alice", Password: "long-enough", Roles: []string{"user"}}, errdefs.ErrConflict, `user "alice" already exists`},
	}
	for _, tc := range tests {
		_, err := f.svc.AddUser(f.ctx, tc.nu)
		if !errors.Is(err, tc.kind) || !strings.Contains(fmtErr(err), tc.message) {
			t.Errorf("%s: error = %v; want %v containing %q", tc.name, err, tc.kind, tc.message)
		}
	}
	u, err := f.svc.AddUser(f.ctx, NewUser{Name: "bob.b-2", Password: "long-enough", Roles: []string{"user", "power", "user"}, DefaultApp: "dsdl"})
	if err != nil || u.PasswordHash != "" || strings.Join(u.Roles, ",") != "power,user" || u.DefaultApp != "dsdl" {
		t.Fatalf("AddUser = %+v, %v", u, err)
	}
	list, err := f.svc.ListUsers(f.ctx)
	if err != nil || len(list) != 3 {
		t.Fatalf("ListUsers = %d, %v; want 3", len(list), err)
	}
	for _, u := range list {
		if u.PasswordHash != "" {
			t.Fatalf("ListUsers returned a password hash")
		}
	}
}

func TestLastAdmin(t *testing.T) {
	f := newFixture(t)
	roles := []string{RoleUser}
	if err := f.svc.DeleteUser(f.ctx, AdminUser); !errdefs.IsConflict(err) || !strings.Contains(err.Error(), "last user with the admin role") {
		t.Fatalf("deleting the last admin: %v; want ErrConflict", err)
	}
	if _, err := f.svc.UpdateUser(f.ctx, AdminUser, UserUpdate{Roles: &roles}); !errdefs.IsConflict(err) {
		t.Fatalf("demoting the last admin: %v; want ErrConflict", err)
	}
	// With a second admin (through an inheriting role) both work.
	f.svc.AddRole(f.ctx, storeRole("superuser", RoleAdmin))
	f.addUser(t, "root2", "superuser")
	if _, err := f.svc.UpdateUser(f.ctx, AdminUser, UserUpdate{Roles: &roles}); err != nil {
		t.Fatalf("demoting admin with another admin present: %v", err)
	}
	if err := f.svc.DeleteUser(f.ctx, "root2"); !errdefs.IsConflict(err) {
		t.Fatalf("deleting the now last admin: %v; want ErrConflict", err)
	}
	if err := f.svc.DeleteUser(f.ctx, AdminUser); err != nil {
		t.Fatalf("deleting a non-admin: %v", err)
	}
	if err := f.svc.DeleteUser(f.ctx, AdminUser); !errdefs.IsNotFound(err) {
		t.Fatalf("deleting a deleted user: %v; want ErrNotFound", err)
	}
}

func TestUpdateUserPasswordEndsSessions(t *testing.T) {
	f := newFixture(t)
	f.addUser(t, "alice", RoleUser)
	p, session := f.login(t, "alice")
	api, _, err := f.svc.CreateAPIToken(f.ctx, p, "ci", 0)
	if err != nil {
		t.Fatal(err)
	}
	short := "short"
	if _, err := f.svc.UpdateUser(f.ctx, "alice", UserUpdate{Password: &short}); !errdefs.IsInvalid(err) {
		t.Fatalf("short new password: %v; want ErrInvalid", err)
	}
	pw, app := "a-new-password", "dsdl"
	if _, err := f.svc.CreateApp(f.ctx, app, nil, nil, "admin"); err != nil {
		t.Fatal(err)
	}
	u, err := f.svc.UpdateUser(f.ctx, "alice", UserUpdate{Password: &pw, DefaultApp: &app})
	if err != nil || u.DefaultApp != "dsdl" || u.PasswordHash != "" {
		t.Fatalf("UpdateUser = %+v, %v", u, err)
	}
	if _, err := f.svc.Authenticate(f.ctx, session, ""); !errdefs.IsUnauthenticated(err) {
		t.Fatalf("session survived a password change: %v", err)
	}
	if p, err := f.svc.Authenticate(f.ctx, api, ""); err != nil || p.App != "dsdl" {
		t.Fatalf("API token after password change = %+v, %v; want it working in the new default app", p, err)
	}
	if _, _, err := f.svc.Login(f.ctx, "alice", "a-new-password", ""); err != nil {
		t.Fatalf("login with the new password: %v", err)
	}
	if _, err := f.svc.UpdateUser(f.ctx, "nobody", UserUpdate{}); !errdefs.IsNotFound(err) {
		t.Fatalf("UpdateUser(unknown): %v; want ErrNotFound", err)
	}
	// Deleting the user ends every token.
	if err := f.svc.DeleteUser(f.ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Authenticate(f.ctx, api, ""); !errdefs.IsUnauthenticated(err) {
		t.Fatalf("API token of a deleted user: %v; want ErrUnauthenticated", err)
	}
}
