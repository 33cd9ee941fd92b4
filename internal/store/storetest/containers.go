package storetest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/store"
)

func testContainers(t *testing.T, open Opener) {
	ctx := context.Background()
	st := open(t)
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)
	c, err := st.CreateContainer(ctx, store.Container{Name: "__dev__", Scope: "alice", Owner: "alice", Image: "dockyard/process",
		Runtime: "process", Desired: "running", Status: "created", Created: t0})
	if err != nil || c.ID == 0 {
		t.Fatalf("CreateContainer = %+v, %v", c, err)
	}
	if _, err := st.CreateContainer(ctx, store.Container{Name: "__dev__", Scope: "alice", Owner: "alice", Runtime: "process", Desired: "running"}); !errdefs.IsConflict(err) {
		t.Fatalf("duplicate CreateContainer: %v, want a conflict", err)
	}
	if _, err := st.CreateContainer(ctx, store.Container{Name: "__dev__", Scope: "bob", Owner: "bob", Runtime: "process", Desired: "running", Created: t0}); err != nil {
		t.Fatalf("same name, other scope: %v", err)
	}
	c.Status, c.Endpoint, c.RuntimeID, c.Started, c.StartedBy, c.GPUs = "running", "https://127.0.0.1:9", "p-1", t0.Add(time.Second), "alice", 1
	c.TokenSealed, c.TokenHint, c.CAPEM, c.Model, c.Message = "dy1:x", "…abcd", "PEM", "M", "ok"
	if len(c.Roles) != 0 {
		t.Errorf("a new container's roles = %q, want none", c.Roles)
	}
	if c.GPUDevices != nil {
		t.Errorf("a new container's GPU devices = %q, want none", c.GPUDevices)
	}
	c.Roles, c.GPUDevices = []string{"analysts", "ops"}, []string{"1", "GPU-8c4e"}
	if err := st.UpdateContainer(ctx, c); err != nil {
		t.Fatalf("UpdateContainer: %v", err)
	}
	got, err := st.GetContainer(ctx, "__dev__", "alice")
	if err != nil {
		t.Fatalf("GetContainer: %v", err)
	}
	if got.Status != "running" || got.Endpoint != c.Endpoint || got.RuntimeID != "p-1" || !got.Started.Equal(c.Started) ||
		got.StartedBy != "alice" || got.GPUs != 1 || got.TokenSealed != "dy1:x" || got.TokenHint != "…abcd" ||
		got.CAPEM != "PEM" || got.Model != "M" || got.Message != "ok" || !got.Created.Equal(t0) || got.Image != "dockyard/process" ||
		strings.Join(got.Roles, ",") != "analysts,ops" || strings.Join(got.GPUDevices, ",") != "1,GPU-8c4e" {
		t.Errorf("GetContainer = %+v, want the updated record", got)
	}
	c.Roles = nil
	if err := st.UpdateContainer(ctx, c); err != nil {
		t.Fatalf("UpdateContainer (unshare): %v", err)
	}
	if got, _ := st.GetContainer(ctx, "__dev__", "alice"); len(got.Roles) != 0 {
		t.Errorf("roles after unsharing = %q, want none", got.Roles)
	}
	if _, err := st.GetContainer(ctx, "__dev__", "carol"); !errdefs.IsNotFound(err) {
		t.Errorf("GetContainer(missing) = %v, want not found", err)
	}
	all, err := st.ListContainers(ctx)
	if err != nil || len(all) != 2 || all[0].Scope != "alice" || all[1].Scope != "bob" {
		t.Fatalf("ListContainers = %+v, %v", all, err)
	}
	if err := st.DeleteContainer(ctx, c.ID); err != nil {
		t.Fatalf("DeleteContainer: %v", err)
	}
	if err := st.DeleteContainer(ctx, c.ID); !errdefs.IsNotFound(err) {
		t.Errorf("DeleteContainer twice = %v, want not found", err)
	}
	if err := st.UpdateContainer(ctx, c); !errdefs.IsNotFound(err) {
		t.Errorf("UpdateContainer(deleted) = %v, want not found", err)
	}
}
