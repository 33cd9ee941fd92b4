package gpu_test

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/dockyard/dockyard/internal/access"
	"github.com/dockyard/dockyard/internal/containers"
	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/gpu"
	"github.com/dockyard/dockyard/internal/runtime"
	"github.com/dockyard/dockyard/internal/runtime/fake"
	"github.com/dockyard/dockyard/internal/store"
)

// Concurrent starts by two members of a role with a quota, the limit read
// through the real access service inside each start's transaction: each
// member holds at most the role's quota (a role quota caps members on
// their own), a member with a user quota holds at most that, and the
// store agrees with the runtime.
func TestConcurrentStartsWithRoleQuota(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	acc, err := access.NewService(db, access.Options{SessionTTL: time.Hour, Password: access.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32},
		Throttle: access.ThrottleOptions{MaxFailures: 5, Window: time.Minute, BaseDelay: time.Second, MaxDelay: time.Minute}}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := acc.Bootstrap(ctx, "admin-password-1"); err != nil {
		t.Fatal(err)
	}
	if _, err := acc.AddRole(ctx, store.Role{Name: "gpu_users", Capabilities: []string{string(access.CapUseGPU)}, Inherit: []string{access.RoleContainerUser}}); err != nil {
		t.Fatal(err)
	}
	users := []string{"ann", "ben", "cat"}
	for _, u := range users {
		if _, err := acc.AddUser(ctx, access.NewUser{Name: u, Password: "password-" + u + "-1", Roles: []string{"gpu_users"}}); err != nil {
			t.Fatal(err)
		}
	}
	q, err := gpu.NewQuotas(db, acc, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := q.Set(ctx, "admin", gpu.KindRole, "gpu_users", 3); err != nil {
		t.Fatal(err)
	}
	if _, err := q.Set(ctx, "admin", gpu.KindUser, "cat", 1); err != nil {
		t.Fatal(err)
	}
	rt := fake.New()
	svc, err := containers.New(containers.Options{Store: db, Runtimes: map[string]runtime.Runtime{"docker": rt}, DefaultRuntime: "docker",
		DefaultImage: "img", ServerID: "s", GPUQuotas: q})
	if err != nil {
		t.Fatal(err)
	}
	const each = 8
	var wg sync.WaitGroup
	var mu sync.Mutex
	var unexpected []error
	for _, u := range users {
		p, err := acc.EffectivePrincipal(ctx, u, "")
		if err != nil {
			t.Fatal(err)
		}
		for i := range each {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := svc.Start(ctx, p, containers.StartRequest{Name: fmt.Sprintf("%s-%d", u, i), GPUs: 1})
				if err != nil && !errdefs.IsLimit(err) {
					mu.Lock()
					unexpected = append(unexpected, err)
					mu.Unlock()
				}
			}()
		}
	}
	wg.Wait()
	for _, err := range unexpected {
		t.Errorf("start: %v", err)
	}
	all, err := db.ListContainers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	held := containers.HeldGPUs(all)
	for u, want := range map[string]int{"ann": 3, "ben": 3, "cat": 1} {
		if held[u] != want {
			t.Errorf("%s holds %d GPUs, want exactly %d (the quota)", u, held[u], want)
		}
	}
	live, _ := rt.List(ctx, nil)
	running := 0
	for _, c := range live {
		if c.State == runtime.StateRunning {
			spec, _ := rt.Spec(c.ID)
			running += spec.GPUs
		}
	}
	if running != 7 {
		t.Errorf("the runtime runs containers with %d GPUs, want 7", running)
	}
}
