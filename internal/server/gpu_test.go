package server_test

import (
	"context"
	"strings"
	"testing"

	"github.com/dockyard/dockyard/internal/access"
	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/server/servertest"
	"github.com/dockyard/dockyard/internal/wire"
)

// GPU governance through the API: quotas are set, listed and removed by
// configure_mltk_container holders only, with audit events; a start with
// GPUs is refused by the default quota (0) with a 429 that names the rule
// and what to do, and audited; with a quota it passes to the runtime (the
// process runtime then refuses GPUs itself); `gpu list` shows the
// runtimes and the caller's limit.
func TestGPUQuotasThroughTheAPI(t *testing.T) {
	ctx := context.Background()
	h := servertest.Start(t)
	cleanupContainers(t, h)
	adm := h.Admin
	if _, err := adm.AddRole(ctx, wire.RoleRequest{Name: "gpu_users", Inherit: []string{access.RoleContainerUser}, Capabilities: []string{string(access.CapUseGPU)}}); err != nil {
		t.Fatal(err)
	}
	if _, err := adm.AddImage(ctx, wire.ImageAdd{Name: "gpu-local", Runtime: "process", GPU: true}); err != nil {
		t.Fatal(err)
	}
	gina := h.User("gina", "gpu_users")
	carol := h.User("carol", access.RoleContainerUser)

	// Deny by default: use_gpu alone gets no GPU.
	_, err := gina.StartContainer(ctx, "g", wire.ContainerStart{Image: "gpu-local", GPUs: 1})
	if !errdefs.IsLimit(err) || !strings.Contains(err.Error(), "may hold no GPUs") || !strings.Contains(err.Error(), "containers.gpu.default_quota is 0") ||
		!strings.Contains(err.Error(), "dockyard gpu quota set") {
		t.Fatalf("GPU start without a quota = %v", err)
	}
	// Without use_gpu a quota does not help.
	if _, err := carol.SetGPUQuota(ctx, "user", "carol", 4); !errdefs.IsPermissionDenied(err) || !strings.Contains(err.Error(), "configure_mltk_container") {
		t.Fatalf("a container user setting a quota = %v", err)
	}
	if _, err := adm.SetGPUQuota(ctx, "user", "carol", 4); err != nil {
		t.Fatal(err)
	}
	if _, err := carol.StartContainer(ctx, "c", wire.ContainerStart{Image: "gpu-local", GPUs: 1}); !errdefs.IsPermissionDenied(err) || !strings.Contains(err.Error(), "use_gpu") {
		t.Fatalf("GPU start without use_gpu = %v", err)
	}
	for _, bad := range []struct{ kind, name string }{{"group", "x"}, {"user", "nobody"}, {"role", "nobody"}} {
		if _, err := adm.SetGPUQuota(ctx, bad.kind, bad.name, 1); err == nil {
			t.Errorf("quota for %s %s accepted", bad.kind, bad.name)
		}
	}
	q, err := adm.SetGPUQuota(ctx, "role", "gpu_users", 1)
	if err != nil || q.Max != 1 || q.UpdatedBy != access.AdminUser {
		t.Fatalf("set role quota = %+v, %v", q, err)
	}
	list, err := adm.GPUQuotas(ctx)
	if err != nil || len(list) != 2 || list[0].Kind != "role" || list[1].Name != "carol" {
		t.Fatalf("quotas = %+v, %v", list, err)
	}
	// Within the role's quota the start reaches the runtime, which gives
	// no GPUs: the failure is the runtime's, and nothing stays held.
	_, err = gina.StartContainer(ctx, "g", wire.ContainerStart{Image: "gpu-local", GPUs: 1})
	if err == nil || errdefs.IsLimit(err) || !strings.Contains(err.Error(), "process runtime cannot give a container GPUs") {
		t.Fatalf("GPU start within the quota on the process runtime = %v", err)
	}
	_, err = gina.StartContainer(ctx, "g", wire.ContainerStart{Image: "gpu-local", GPUs: 2})
	if !errdefs.IsLimit(err) || !strings.Contains(err.Error(), "role gpu_users") {
		t.Fatalf("GPU start over the role's quota = %v", err)
	}
	inv, err := gina.GPUs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if inv.You.User != "gina" || inv.You.Max != 1 || inv.You.Held != 0 || len(inv.Holders) != 0 || len(inv.Runtimes) == 0 {
		t.Fatalf("gina's inventory = %+v", inv)
	}
	for _, rt := range inv.Runtimes {
		if rt.Name == "process" && (rt.Supported || len(rt.Pools) != 0) {
			t.Errorf("the process runtime reports GPUs: %+v", rt)
		}
	}
	if _, err := h.User("uma", access.RoleUser).GPUs(ctx); !errdefs.IsPermissionDenied(err) {
		t.Errorf("gpu list without list_mltk_container = %v", err)
	}
	if err := adm.RemoveGPUQuota(ctx, "role", "gpu_users"); err != nil {
		t.Fatal(err)
	}
	if err := adm.RemoveGPUQuota(ctx, "role", "gpu_users"); !errdefs.IsNotFound(err) {
		t.Fatalf("remove twice = %v", err)
	}
	res, err := adm.SearchAll(ctx, `index=_internal "gpu" | table action result user object`, "")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, r := range res.Results {
		a, _ := r.Get("action")
		rs, _ := r.Get("result")
		u, _ := r.Get("user")
		seen[a+" "+rs+" "+u] = true
	}
	for _, want := range []string{"gpu.quota.set success admin", "gpu.quota.remove success admin", "gpu.quota.set denied carol", "container.start denied gina"} {
		if !seen[want] {
			t.Errorf("no audit event %q in %v", want, seen)
		}
	}
}
