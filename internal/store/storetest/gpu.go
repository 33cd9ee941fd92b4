package storetest

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/store"
)

func testGPUQuotas(t *testing.T, open Opener) {
	ctx := context.Background()
	st := open(t)
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	if all, err := st.ListGPUQuotas(ctx); err != nil || len(all) != 0 {
		t.Fatalf("ListGPUQuotas(empty) = %+v, %v", all, err)
	}
	puts := []store.GPUQuota{
		{Kind: store.GPUQuotaUser, Name: "carol", Max: 2, UpdatedBy: "admin", Updated: at},
		{Kind: store.GPUQuotaRole, Name: "gpu_users", Max: 1, UpdatedBy: "admin", Updated: at},
		{Kind: store.GPUQuotaRole, Name: "carol", Max: 0, UpdatedBy: "admin", Updated: at}, // a role may share a user's name
	}
	for _, q := range puts {
		if err := st.PutGPUQuota(ctx, q); err != nil {
			t.Fatalf("PutGPUQuota(%+v): %v", q, err)
		}
	}
	// Put again replaces.
	up := puts[1]
	up.Max, up.UpdatedBy, up.Updated = 4, "root", at.Add(time.Hour)
	if err := st.PutGPUQuota(ctx, up); err != nil {
		t.Fatal(err)
	}
	all, err := st.ListGPUQuotas(ctx)
	want := []store.GPUQuota{puts[2], up, puts[0]}
	if err != nil || !slices.Equal(all, want) {
		t.Fatalf("ListGPUQuotas = %+v, %v; want %+v", all, err, want)
	}
	if err := st.DeleteGPUQuota(ctx, store.GPUQuotaRole, "carol"); err != nil {
		t.Fatal(err)
	}
	if err := st.DeleteGPUQuota(ctx, store.GPUQuotaRole, "carol"); !errdefs.IsNotFound(err) {
		t.Fatalf("DeleteGPUQuota twice = %v, want not found", err)
	}
	if all, _ := st.ListGPUQuotas(ctx); len(all) != 2 || all[0].Name != "gpu_users" || all[1].Kind != store.GPUQuotaUser {
		t.Fatalf("after delete = %+v", all)
	}
	// A put inside a transaction that rolls back leaves nothing.
	boom := errors.New("boom")
	err = st.InTx(ctx, func(ctx context.Context) error {
		if err := st.PutGPUQuota(ctx, store.GPUQuota{Kind: store.GPUQuotaUser, Name: "dave", Max: 9}); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("InTx = %v", err)
	}
	if all, _ := st.ListGPUQuotas(ctx); len(all) != 2 {
		t.Fatalf("a rolled-back put stayed: %+v", all)
	}
}
