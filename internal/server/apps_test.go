package server_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	_ "modernc.org/sqlite"

	"github.com/dockyard/dockyard/internal/access"
	"github.com/dockyard/dockyard/internal/client"
	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/server/servertest"
	"github.com/dockyard/dockyard/internal/wire"
)

// appClient logs name in and returns a client whose requests use app as
// their context.
func appClient(t *testing.T, h *servertest.Harness, name, app string) *client.Client {
	t.Helper()
	res, err := h.Client("").Login(context.Background(), name, servertest.UserPassword)
	if err != nil {
		t.Fatalf("login %s: %v", name, err)
	}
	c, err := client.New(client.Options{Server: h.Srv.URL(), CAFile: h.Srv.CAFile(), Token: res.Token, App: app})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestAppsWithMembers: only an app's readers may use it as their context
// (anyone else gets "app not found", as for an app that does not exist), a
// reader may not share into it, a writer may; what is shared in it stays
// within its readers; a non-empty app is not deleted.
func TestAppsWithMembers(t *testing.T) {
	h := servertest.Start(t)
	ctx := context.Background()
	for _, r := range []wire.RoleRequest{{Name: "hr_team", Capabilities: []string{"search"}}, {Name: "hr_admin", Inherit: []string{"hr_team"}}} {
		if _, err := h.Admin.AddRole(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	read, write := []string{"hr_team"}, []string{"hr_admin"}
	app, err := h.Admin.CreateApp(ctx, wire.AppRequest{Name: "hr", Read: &read, Write: &write})
	if err != nil || !slices.Equal(app.Read, read) || !slices.Equal(app.Write, write) {
		t.Fatalf("create hr: %+v, %v", app, err)
	}
	h.User("nora", access.RoleUser, access.RolePower) // writes search, not a member of hr
	h.User("rita", access.RoleUser, "hr_team")
	h.User("wes", access.RoleUser, "hr_admin")
	nora, noraNone := appClient(t, h, "nora", "hr"), appClient(t, h, "nora", "payroll")
	rita, wes := appClient(t, h, "rita", "hr"), appClient(t, h, "wes", "hr")

	// A non-member's --app hr is "app not found", like an app that does not exist.
	_, errHR := nora.Whoami(ctx)
	_, errNone := noraNone.Whoami(ctx)
	if !errdefs.IsNotFound(errHR) || errHR.Error() != "app not found: hr" || errNone.Error() != "app not found: payroll" {
		t.Fatalf("nora in hr: %v; in payroll: %v; want app not found", errHR, errNone)
	}
	noraSearch := appClient(t, h, "nora", "")
	if _, err := noraSearch.App(ctx, "hr"); err == nil || err.Error() != "app not found: hr" {
		t.Errorf("nora apps show hr: %v", err)
	}
	if as, err := noraSearch.Apps(ctx); err != nil || len(as) != 1 || as[0].Name != access.DefaultApp || !as[0].CanWrite {
		t.Errorf("nora's apps: %+v, %v; want only search, writable", as, err)
	}
	if _, err := noraSearch.SearchAll(ctx, "| makeresults", "hr"); err == nil || !strings.Contains(err.Error(), "app not found: hr") {
		t.Errorf("nora's search in app hr: %v", err)
	}
	if w, err := rita.Whoami(ctx); err != nil || w.App != "hr" {
		t.Fatalf("rita in hr: %+v, %v", w, err)
	}

	// A reader cannot share into hr; a writer can.
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "w.bin"), []byte("weights"), 0o600)
	if _, _, err := rita.ImportModelDir(ctx, "app:Pay", dir, "nb"); !errdefs.IsPermissionDenied(err) || !strings.Contains(err.Error(), "write permission on app hr") {
		t.Errorf("rita imports app:Pay into hr: %v; want permission denied naming the app", err)
	}
	if _, _, err := rita.ImportModelDir(ctx, "Mine", dir, "nb"); err != nil {
		t.Fatalf("rita's private model in hr: %v", err)
	}
	if _, err := rita.ShareModel(ctx, "Mine", wire.ModelShareRequest{Sharing: "app"}); !errdefs.IsPermissionDenied(err) {
		t.Errorf("rita shares Mine into hr: %v; want permission denied", err)
	}
	if _, err := rita.UploadLookup(ctx, "r.csv", strings.NewReader("a\n1\n")); err != nil {
		t.Fatal(err)
	}
	if _, err := rita.ShareLookup(ctx, "r.csv", wire.LookupShare{Sharing: "global"}); !errdefs.IsPermissionDenied(err) {
		t.Errorf("rita shares r.csv globally from hr: %v; want permission denied", err)
	}
	if _, _, err := wes.ImportModelDir(ctx, "app:Pay", dir, "nb"); err != nil {
		t.Fatalf("wes imports app:Pay into hr: %v", err)
	}
	if _, err := wes.ShareModel(ctx, "app:Pay", wire.ModelShareRequest{Sharing: "global"}); err != nil {
		t.Fatalf("wes shares Pay globally: %v", err)
	}
	if s, err := rita.Model(ctx, "app:Pay"); err != nil || s.Owner != "wes" {
		t.Errorf("rita reads app:Pay: %+v, %v", s, err)
	}
	// Shared globally, but from an app nora may not read: she does not see it.
	if _, err := noraSearch.Model(ctx, "Pay"); !errdefs.IsNotFound(err) || err.Error() != "model not found: Pay" {
		t.Errorf("nora reads Pay: %v; want model not found", err)
	}
	if page, err := noraSearch.Models(ctx, client.ModelFilter{}); err != nil || len(page.Models) != 0 {
		t.Errorf("nora lists %+v, %v", page, err)
	}

	// Only holders of admin_all_objects manage apps; a non-empty app stays.
	if _, err := noraSearch.CreateApp(ctx, wire.AppRequest{Name: "mine"}); !errdefs.IsPermissionDenied(err) || !strings.Contains(err.Error(), "admin_all_objects") {
		t.Errorf("nora creates an app: %v", err)
	}
	err = h.Admin.DeleteApp(ctx, "hr")
	if !errdefs.IsConflict(err) || !strings.Contains(err.Error(), "2 models, 1 lookups and 0 notebooks") {
		t.Errorf("delete non-empty hr: %v", err)
	}
	everyone := []string{"*"}
	if a, err := h.Admin.UpdateApp(ctx, "hr", wire.AppRequest{Read: &everyone}); err != nil || !slices.Equal(a.Read, everyone) || !slices.Equal(a.Write, write) {
		t.Errorf("update hr: %+v, %v", a, err)
	}
	if _, err := nora.Whoami(ctx); err != nil {
		t.Errorf("nora in hr readable by everyone: %v", err)
	}
	if _, err := h.Admin.CreateApp(ctx, wire.AppRequest{Name: "tmp"}); err != nil {
		t.Fatal(err)
	}
	if err := h.Admin.DeleteApp(ctx, "tmp"); err != nil {
		t.Errorf("delete empty tmp: %v", err)
	}
	all := auditActions(t, h)
	for _, action := range []string{`"app.create"`, `"app.update"`, `"app.delete"`} {
		if !hasEvent(all, action, `"admin"`) {
			t.Errorf("no %s audit event", action)
		}
	}
	if !hasEvent(all, `"model.create"`, `"denied"`, `"rita"`, `"request_id"`, `"src"`) {
		t.Errorf("rita's refused share into hr is not audited with its request id and source")
	}
}

// oldFormat turns the store in dir back into the format before apps: no
// apps table, shared objects unique per app. Starting a server on it again
// runs the apps migration as on an upgraded installation.
func oldFormat(t *testing.T, dir string) {
	t.Helper()
	db, err := sql.Open("sqlite", filepath.Join(dir, "dockyard.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range []string{
		`DROP TABLE apps`,
		`DROP INDEX models_scope`, `CREATE UNIQUE INDEX models_scope ON models(app, name, scope_owner)`,
		`DROP INDEX lookups_scope`, `CREATE UNIQUE INDEX lookups_scope ON lookups(app, name, scope_owner)`,
		`DROP INDEX notebooks_scope`, `CREATE UNIQUE INDEX notebooks_scope ON notebooks(app, name, scope_owner)`,
		`DELETE FROM schema_migrations WHERE name = '0060_apps.sql'`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

// TestAppsMigrationKeepsObjectsReachable: objects made before apps existed,
// in the default app and in others (dsdl, and ops as a user's default app),
// are all reachable by their owners after the migration, which creates
// every app in use with the default app's roles.
func TestAppsMigrationKeepsObjectsReachable(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	h := servertest.StartConfig(t, servertest.Config(dir))
	if _, err := h.Admin.CreateApp(ctx, wire.AppRequest{Name: "dsdl"}); err != nil {
		t.Fatal(err)
	}
	h.User("alice", access.RoleUser)
	h.User("bob", access.RoleUser, access.RolePower)
	ops := "ops"
	if _, err := h.Admin.CreateApp(ctx, wire.AppRequest{Name: ops}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.Admin.UpdateUser(ctx, "bob", wire.UserRequest{DefaultApp: &ops}); err != nil {
		t.Fatal(err)
	}
	mdir := t.TempDir()
	os.WriteFile(filepath.Join(mdir, "w.bin"), []byte("weights"), 0o600)
	for _, app := range []string{"", "dsdl"} {
		alice := appClient(t, h, "alice", app)
		if _, _, err := alice.ImportModelDir(ctx, "M", mdir, "nb"); err != nil {
			t.Fatal(err)
		}
		if _, err := alice.UploadLookup(ctx, "l.csv", strings.NewReader("a\n1\n")); err != nil {
			t.Fatal(err)
		}
		if _, err := alice.PushNotebook(ctx, "nb", "py", "", []byte(hiddenNB)); err != nil {
			t.Fatal(err)
		}
	}
	bob := appClient(t, h, "bob", "search")
	if _, _, err := bob.ImportModelDir(ctx, "app:Shared", mdir, "nb"); err != nil {
		t.Fatal(err)
	}
	// A second shared model of one name in one app cannot exist in the old
	// format; the objects above are what an old store holds.
	h.Stop()
	oldFormat(t, dir)

	h2 := servertest.StartConfig(t, servertest.Config(dir))
	apps, err := h2.Admin.Apps(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, a := range apps {
		names = append(names, a.Name)
		if !slices.Equal(a.Read, []string{"*"}) || !slices.Equal(a.Write, []string{"admin", "power"}) {
			t.Errorf("migrated app %s: read %v write %v; want the default app's roles", a.Name, a.Read, a.Write)
		}
	}
	if strings.Join(names, ",") != "dsdl,ops,search" {
		t.Errorf("apps after migration: %v; want dsdl, ops (a default app), search", names)
	}
	for _, app := range []string{"search", "dsdl"} {
		alice := appClient(t, h2, "alice", app)
		if s, err := alice.Model(ctx, "M"); err != nil || s.Owner != "alice" || s.App != app {
			t.Errorf("alice's model M in %s after migration: %+v, %v", app, s, err)
		}
		if l, err := alice.Lookup(ctx, "l.csv"); err != nil || l.App != app {
			t.Errorf("alice's lookup in %s after migration: %+v, %v", app, l, err)
		}
		if n, err := alice.Notebook(ctx, "nb"); err != nil || n.App != app {
			t.Errorf("alice's notebook in %s after migration: %+v, %v", app, n, err)
		}
	}
	bob2 := appClient(t, h2, "bob", "search")
	if s, err := bob2.Model(ctx, "app:Shared"); err != nil || s.Owner != "bob" {
		t.Errorf("bob's app:Shared after migration: %+v, %v", s, err)
	}
	if w, err := appClient(t, h2, "bob", "").Whoami(ctx); err != nil || w.App != "ops" {
		t.Errorf("bob's default app after migration: %+v, %v", w, err)
	}
}
