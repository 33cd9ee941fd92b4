package storetest

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/store"
)

func testApps(t *testing.T, open Opener) {
	ctx := context.Background()
	st := open(t)
	// A new store holds the default app with its defaults.
	def, err := st.GetApp(ctx, "search")
	if err != nil || !slices.Equal(def.Read, []string{"*"}) || !slices.Equal(def.Write, []string{"admin", "power"}) {
		t.Fatalf("default app search = %+v, %v; want read [*], write [admin power]", def, err)
	}
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	hr := store.App{Name: "hr", Read: []string{"hr_team"}, Write: []string{"hr_admin"}, CreatedBy: "admin", Created: at, Updated: at}
	if err := st.CreateApp(ctx, hr); err != nil {
		t.Fatalf("CreateApp: %v", err)
	}
	if err := st.CreateApp(ctx, hr); !errdefs.IsConflict(err) {
		t.Fatalf("CreateApp twice = %v, want conflict", err)
	}
	got, err := st.GetApp(ctx, "hr")
	if err != nil || !slices.Equal(got.Read, hr.Read) || !slices.Equal(got.Write, hr.Write) || got.CreatedBy != "admin" || !got.Created.Equal(at) {
		t.Fatalf("GetApp = %+v, %v", got, err)
	}
	if _, err := st.GetApp(ctx, "nope"); !errdefs.IsNotFound(err) {
		t.Fatalf("GetApp(missing) = %v, want not found", err)
	}
	all, err := st.ListApps(ctx)
	if err != nil || len(all) != 2 || all[0].Name != "hr" || all[1].Name != "search" {
		t.Fatalf("ListApps = %+v, %v", all, err)
	}
	hr.Read, hr.Updated = []string{"hr_team", "power"}, at.Add(time.Hour)
	if err := st.UpdateApp(ctx, hr); err != nil {
		t.Fatal(err)
	}
	if got, _ := st.GetApp(ctx, "hr"); !slices.Equal(got.Read, hr.Read) || !got.Updated.Equal(hr.Updated) {
		t.Fatalf("after UpdateApp = %+v", got)
	}
	if err := st.UpdateApp(ctx, store.App{Name: "nope"}); !errdefs.IsNotFound(err) {
		t.Fatalf("UpdateApp(missing) = %v, want not found", err)
	}
	// An app that holds objects is not deleted.
	for _, mk := range []func() error{
		func() error {
			_, err := st.CreateModel(ctx, store.Model{Name: "m", App: "hr", Owner: "alice", Sharing: "user"})
			return err
		},
		func() error {
			_, err := st.CreateLookup(ctx, store.Lookup{Name: "l.csv", App: "hr", Owner: "alice", Sharing: "app", Digest: "sha256:aa"})
			return err
		},
		func() error {
			_, err := st.CreateNotebook(ctx, store.Notebook{Name: "nb", App: "hr", Owner: "bob", Sharing: "global"})
			return err
		},
	} {
		if err := mk(); err != nil {
			t.Fatal(err)
		}
	}
	u, err := st.DeleteApp(ctx, "hr")
	if !errdefs.IsConflict(err) || u != (store.AppUsage{Models: 1, Lookups: 1, Notebooks: 1}) {
		t.Fatalf("DeleteApp(in use) = %+v, %v; want conflict with one of each", u, err)
	}
	if u, err := st.AppUsage(ctx, "hr"); err != nil || u.Empty() {
		t.Fatalf("AppUsage = %+v, %v", u, err)
	}
	if _, err := st.GetApp(ctx, "hr"); err != nil {
		t.Fatalf("refused DeleteApp removed the app: %v", err)
	}
	empty := store.App{Name: "empty", Read: []string{"*"}, Write: []string{"admin"}}
	if err := st.CreateApp(ctx, empty); err != nil {
		t.Fatal(err)
	}
	if _, err := st.DeleteApp(ctx, "empty"); err != nil {
		t.Fatalf("DeleteApp(empty) = %v", err)
	}
	if _, err := st.DeleteApp(ctx, "empty"); !errdefs.IsNotFound(err) {
		t.Fatalf("DeleteApp twice = %v, want not found", err)
	}
}
