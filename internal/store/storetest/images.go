package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/store"
)

func testImages(t *testing.T, open Opener) {
	ctx := context.Background()
	st := open(t)
	if l, err := st.ListImages(ctx); err != nil || len(l) != 0 {
		t.Fatalf("a new store's catalogue = %+v, %v; want empty", l, err)
	}
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	cpu := store.Image{Name: "golden-cpu", Ref: "registry.example.com/golden-cpu:5.2.0", Digest: "sha256:aa",
		RunRef: "registry.example.com/golden-cpu@sha256:aa", Source: "registry", Title: "Golden CPU", Runtime: "docker",
		CreatedBy: "admin", Created: at, UpdatedBy: "admin", Updated: at}
	gpu := cpu
	gpu.Name, gpu.GPU, gpu.Title = "golden-gpu", true, "Golden GPU"
	for _, im := range []store.Image{gpu, cpu} {
		if err := st.CreateImage(ctx, im); err != nil {
			t.Fatalf("CreateImage(%s): %v", im.Name, err)
		}
	}
	if err := st.CreateImage(ctx, cpu); !errdefs.IsConflict(err) {
		t.Fatalf("CreateImage twice = %v, want conflict", err)
	}
	got, err := st.GetImage(ctx, "golden-gpu")
	if err != nil || got != gpu {
		t.Fatalf("GetImage = %+v, %v; want %+v", got, err, gpu)
	}
	if _, err := st.GetImage(ctx, "nope"); !errdefs.IsNotFound(err) {
		t.Fatalf("GetImage(missing) = %v, want not found", err)
	}
	all, err := st.ListImages(ctx)
	if err != nil || len(all) != 2 || all[0].Name != "golden-cpu" || all[1].Name != "golden-gpu" {
		t.Fatalf("ListImages = %+v, %v", all, err)
	}
	up := cpu
	up.Digest, up.RunRef, up.UpdatedBy, up.Updated = "sha256:bb", "registry.example.com/golden-cpu@sha256:bb", "root", at.Add(time.Hour)
	up.Created, up.CreatedBy = at.Add(time.Minute), "someone" // creation is kept
	if err := st.UpdateImage(ctx, up); err != nil {
		t.Fatal(err)
	}
	got, _ = st.GetImage(ctx, "golden-cpu")
	want := up
	want.Created, want.CreatedBy = at, "admin"
	if got != want {
		t.Fatalf("after UpdateImage = %+v, want %+v", got, want)
	}
	if err := st.UpdateImage(ctx, store.Image{Name: "nope"}); !errdefs.IsNotFound(err) {
		t.Fatalf("UpdateImage(missing) = %v, want not found", err)
	}
	// A change inside a failed transaction is undone.
	boom := errors.New("boom")
	if err := st.InTx(ctx, func(ctx context.Context) error {
		if err := st.DeleteImage(ctx, "golden-gpu"); err != nil {
			return err
		}
		return boom
	}); !errors.Is(err, boom) {
		t.Fatalf("InTx = %v", err)
	}
	if _, err := st.GetImage(ctx, "golden-gpu"); err != nil {
		t.Fatalf("entry deleted in a rolled-back transaction: %v", err)
	}
	if err := st.DeleteImage(ctx, "golden-gpu"); err != nil {
		t.Fatal(err)
	}
	if err := st.DeleteImage(ctx, "golden-gpu"); !errdefs.IsNotFound(err) {
		t.Fatalf("DeleteImage twice = %v, want not found", err)
	}
}
