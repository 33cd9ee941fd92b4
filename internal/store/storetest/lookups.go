package storetest

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/store"
)

// testLookups covers store.LookupStore.
func testLookups(t *testing.T, open Opener) {
	var ls store.LookupStore = open(t)
	ctx := context.Background()
	at := time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)
	base := store.Lookup{Name: "x.csv", App: "search", Owner: "alice", Sharing: "user",
		Read: []string{}, Write: []string{}, Digest: "sha256:aa", Size: 10, Created: at, Updated: at}

	priv, err := ls.CreateLookup(ctx, base)
	if err != nil || priv.ID == 0 {
		t.Fatalf("CreateLookup: %+v %v", priv, err)
	}
	if _, err := ls.CreateLookup(ctx, base); !errdefs.IsConflict(err) {
		t.Fatalf("duplicate private lookup: got %v, want conflict", err)
	}
	bob := base
	bob.Owner = "bob"
	if _, err := ls.CreateLookup(ctx, bob); err != nil {
		t.Fatalf("another user's private lookup of the same name: %v", err)
	}
	shared := base
	shared.Owner, shared.Sharing, shared.Read, shared.Write = "carol", "app", []string{"power"}, []string{"admin"}
	shared, err = ls.CreateLookup(ctx, shared)
	if err != nil {
		t.Fatalf("shared lookup beside private ones: %v", err)
	}
	dup := shared
	dup.Sharing = "global"
	if _, err := ls.CreateLookup(ctx, dup); !errdefs.IsConflict(err) {
		t.Fatalf("carol's second shared lookup of the same name: got %v, want conflict", err)
	}
	other := base
	other.App, other.Name, other.Sharing = "sales", "y.csv", "global"
	if _, err := ls.CreateLookup(ctx, other); err != nil {
		t.Fatal(err)
	}

	got, err := ls.GetLookup(ctx, shared.ID)
	if err != nil || got.Owner != "carol" || got.Sharing != "app" || !slices.Equal(got.Read, []string{"power"}) ||
		!slices.Equal(got.Write, []string{"admin"}) || got.Digest != "sha256:aa" || got.Size != 10 || !got.Created.Equal(at) {
		t.Fatalf("GetLookup: %+v %v", got, err)
	}
	if _, err := ls.GetLookup(ctx, 999999); !errdefs.IsNotFound(err) {
		t.Fatalf("GetLookup missing: %v", err)
	}
	found, err := ls.FindLookups(ctx, "x.csv")
	if err != nil || len(found) != 3 {
		t.Fatalf("FindLookups: %d %v", len(found), err)
	}
	all, err := ls.ListLookups(ctx, "")
	if err != nil || len(all) != 4 || all[0].App != "sales" {
		t.Fatalf("ListLookups all: %+v %v", all, err)
	}
	inApp, err := ls.ListLookups(ctx, "search")
	if err != nil || len(inApp) != 3 {
		t.Fatalf("ListLookups search: %d %v", len(inApp), err)
	}

	priv.Digest, priv.Size, priv.Read, priv.Updated = "sha256:bb", 20, []string{"user"}, at.Add(time.Hour)
	if err := ls.UpdateLookup(ctx, priv); err != nil {
		t.Fatalf("UpdateLookup: %v", err)
	}
	got, _ = ls.GetLookup(ctx, priv.ID)
	if got.Digest != "sha256:bb" || got.Size != 20 || !slices.Equal(got.Read, []string{"user"}) || !got.Updated.Equal(at.Add(time.Hour)) {
		t.Fatalf("after update: %+v", got)
	}
	// carol's private x.csv shared at app level collides with her shared one.
	carolPriv := base
	carolPriv.Owner = "carol"
	if carolPriv, err = ls.CreateLookup(ctx, carolPriv); err != nil {
		t.Fatal(err)
	}
	carolPriv.Sharing = "app"
	if err := ls.UpdateLookup(ctx, carolPriv); !errdefs.IsConflict(err) {
		t.Fatalf("update into a taken scope: got %v, want conflict", err)
	}
	if err := ls.DeleteLookup(ctx, carolPriv.ID); err != nil {
		t.Fatal(err)
	}
	if err := ls.DeleteLookup(ctx, priv.ID); err != nil {
		t.Fatal(err)
	}
	if err := ls.DeleteLookup(ctx, priv.ID); !errdefs.IsNotFound(err) {
		t.Fatalf("delete twice: %v", err)
	}
	missing := priv
	missing.ID = 999999
	if err := ls.UpdateLookup(ctx, missing); !errdefs.IsNotFound(err) {
		t.Fatalf("update missing: %v", err)
	}
}
