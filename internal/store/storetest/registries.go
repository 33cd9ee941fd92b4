package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/store"
)

func testRegistries(t *testing.T, open Opener) {
	ctx := context.Background()
	st := open(t)
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	r := store.Registry{Host: "registry.example.com:5000", CAPEM: "-----BEGIN CERTIFICATE-----\n...", CreatedBy: "admin", Created: at, UpdatedBy: "admin", Updated: at}
	if err := st.CreateRegistry(ctx, r); err != nil {
		t.Fatal(err)
	}
	if err := st.CreateRegistry(ctx, r); !errdefs.IsConflict(err) {
		t.Fatalf("CreateRegistry twice = %v, want conflict", err)
	}
	if err := st.CreateRegistry(ctx, store.Registry{Host: "a.example.com"}); err != nil {
		t.Fatal(err)
	}
	got, err := st.GetRegistry(ctx, r.Host)
	if err != nil || got != r {
		t.Fatalf("GetRegistry = %+v, %v; want %+v", got, err, r)
	}
	if _, err := st.GetRegistry(ctx, "nope"); !errdefs.IsNotFound(err) {
		t.Fatalf("GetRegistry(missing) = %v, want not found", err)
	}
	up := r
	up.Username, up.PasswordSealed, up.UpdatedBy, up.Updated = "ci", "v1:sealed", "root", at.Add(time.Hour)
	up.CreatedBy = "someone" // creation is kept
	if err := st.UpdateRegistry(ctx, up); err != nil {
		t.Fatal(err)
	}
	want := up
	want.CreatedBy = "admin"
	if got, _ := st.GetRegistry(ctx, r.Host); got != want {
		t.Fatalf("after UpdateRegistry = %+v, want %+v", got, want)
	}
	if err := st.UpdateRegistry(ctx, store.Registry{Host: "nope"}); !errdefs.IsNotFound(err) {
		t.Fatalf("UpdateRegistry(missing) = %v", err)
	}
	all, err := st.ListRegistries(ctx)
	if err != nil || len(all) != 2 || all[0].Host != "a.example.com" || all[1].Host != r.Host {
		t.Fatalf("ListRegistries = %+v, %v", all, err)
	}
	if err := st.DeleteRegistry(ctx, r.Host); err != nil {
		t.Fatal(err)
	}
	if err := st.DeleteRegistry(ctx, r.Host); !errdefs.IsNotFound(err) {
		t.Fatalf("DeleteRegistry twice = %v", err)
	}
}
