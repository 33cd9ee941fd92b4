package containers_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/dockyard/dockyard/internal/access"
	"github.com/dockyard/dockyard/internal/containers"
	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/runtime"
)

// quotas is a GPUQuotas by user (missing: no limit).
type quotas map[string]int

func (q quotas) GPULimit(ctx context.Context, user string) (int, string, error) {
	n, ok := q[user]
	if !ok {
		return -1, "none", nil
	}
	return n, "user " + user, nil
}

func gpuUser(name string) *access.Principal {
	p := principal(name, access.RoleContainerUser)
	p.Caps[access.CapUseGPU] = true
	return p
}

// startAtOnce runs n starts concurrently, start i as req(i) says, and
// returns their errors.
func startAtOnce(svc *containers.Service, n int, req func(i int) (*access.Principal, containers.StartRequest)) []error {
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p, r := req(i)
			_, errs[i] = svc.Start(context.Background(), p, r)
		}()
	}
	wg.Wait()
	return errs
}

// held sums, from the store, the GPUs the owner's containers hold.
func (e *env) held(t *testing.T, owner string) int {
	t.Helper()
	all, err := e.db.ListContainers(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return containers.HeldGPUs(all)[owner]
}

// Concurrent starts never hold more GPUs than the quota together: each
// start's claim checks and records in one transaction. Every start either
// succeeds or is refused by the quota, and the refusals are audited with
// what was held.
func TestGPUQuotaConcurrentStarts(t *testing.T) {
	for _, tc := range []struct {
		name  string
		quota int
		gpus  func(i int) int
	}{
		{"one each", 3, func(int) int { return 1 }},
		{"mixed", 5, func(i int) int { return 1 + i%3 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			e := newEnv(t)
			e.opts.GPUQuotas = quotas{"carol": tc.quota}
			svc := e.newService(t)
			carol := gpuUser("carol")
			const n = 16
			errs := startAtOnce(svc, n, func(i int) (*access.Principal, containers.StartRequest) {
				return carol, containers.StartRequest{Name: fmt.Sprintf("g%d", i), GPUs: tc.gpus(i)}
			})
			started, granted := 0, 0
			for i, err := range errs {
				switch {
				case err == nil:
					started++
					granted += tc.gpus(i)
				case errdefs.IsLimit(err) && strings.Contains(err.Error(), "GPU quota"):
				default:
					t.Errorf("start %d: %v", i, err)
				}
			}
			if h := e.held(t, "carol"); h > tc.quota || h != granted {
				t.Fatalf("carol holds %d GPUs in the store (granted %d), quota %d", h, granted, tc.quota)
			}
			if started == 0 || started == n {
				t.Fatalf("%d of %d starts succeeded: the quota did not decide", started, n)
			}
			// The runtime got exactly the granted GPUs.
			live, _ := e.rt.List(ctx, nil)
			sum := 0
			for _, c := range live {
				spec, _ := e.rt.Spec(c.ID)
				if c.State == runtime.StateRunning {
					sum += spec.GPUs
				}
			}
			if sum != granted {
				t.Errorf("running runtime containers have %d GPUs, want %d", sum, granted)
			}
			if !e.hasAction("container.start denied carol") {
				t.Errorf("quota refusals not audited: %q", e.actions())
			}
		})
	}
}

// What holds GPUs: running and starting containers; a stop, a failed
// start and a removal give them back, and restarting a container does not
// count its own GPUs twice. Quotas count each owner on their own.
func TestGPUQuotaAccounting(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	e.opts.GPUQuotas = quotas{"carol": 2, "dave": 1, "erin": 0}
	svc := e.newService(t)
	carol, dave := gpuUser("carol"), gpuUser("dave")
	if _, err := svc.Start(ctx, carol, containers.StartRequest{Name: "a", GPUs: 2}); err != nil {
		t.Fatal(err)
	}
	// A restart with the same GPUs is within the quota (its own are not counted).
	if _, err := svc.Start(ctx, carol, containers.StartRequest{Name: "a", GPUs: 2}); err != nil {
		t.Fatalf("restart of a running GPU container: %v", err)
	}
	_, err := svc.Start(ctx, carol, containers.StartRequest{Name: "b", GPUs: 1})
	if !errdefs.IsLimit(err) || !strings.Contains(err.Error(), "may hold 2 GPU(s) (user carol)") || !strings.Contains(err.Error(), "holds 2") ||
		!strings.Contains(err.Error(), "container:a") || !strings.Contains(err.Error(), "dockyard gpu quota set --user carol") {
		t.Fatalf("start over the quota = %v", err)
	}
	// Someone else's quota is their own.
	if _, err := svc.Start(ctx, dave, containers.StartRequest{Name: "d", GPUs: 1}); err != nil {
		t.Fatalf("dave within his quota: %v", err)
	}
	// A quota of 0 says to ask for one.
	_, err = svc.Start(ctx, gpuUser("erin"), containers.StartRequest{Name: "e", GPUs: 1})
	if !errdefs.IsLimit(err) || !strings.Contains(err.Error(), "may hold no GPUs") {
		t.Fatalf("start with a 0 quota = %v", err)
	}
	// A start without GPUs needs no quota.
	if _, err := svc.Start(ctx, gpuUser("erin"), containers.StartRequest{Name: "e"}); err != nil {
		t.Fatalf("erin without GPUs: %v", err)
	}
	// A stop gives them back.
	if _, err := svc.Stop(ctx, carol, "a"); err != nil {
		t.Fatal(err)
	}
	if h := e.held(t, "carol"); h != 0 {
		t.Fatalf("after stop carol holds %d", h)
	}
	// A failed start holds none.
	e.rt.FailStart["b"] = errors.New("no device")
	if _, err := svc.Start(ctx, carol, containers.StartRequest{Name: "b", GPUs: 2}); err == nil || errdefs.IsLimit(err) {
		t.Fatalf("failing start = %v", err)
	}
	if h := e.held(t, "carol"); h != 0 {
		t.Fatalf("after a failed start carol holds %d", h)
	}
	delete(e.rt.FailStart, "b")
	if _, err := svc.Start(ctx, carol, containers.StartRequest{Name: "b", GPUs: 2}); err != nil {
		t.Fatal(err)
	}
	// The stopped container cannot come back with GPUs while b holds them.
	if _, err := svc.Start(ctx, carol, containers.StartRequest{Name: "a", GPUs: 1}); !errdefs.IsLimit(err) {
		t.Fatalf("restart over the quota = %v", err)
	}
	if c, _ := e.db.GetContainer(ctx, "a", ""); c.Desired != containers.DesiredStopped || c.Status != containers.StatusStopped {
		t.Errorf("a refused restart changed the record: %+v", c)
	}
	if err := svc.Remove(ctx, carol, "b"); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Start(ctx, carol, containers.StartRequest{Name: "a", GPUs: 2}); err != nil {
		t.Fatalf("restart after removing b: %v", err)
	}
	if h := e.held(t, "carol"); h != 2 {
		t.Errorf("carol holds %d, want 2", h)
	}
}

// A start the server stopped in (a record that claimed GPUs and got no
// runtime container) is marked failed at the next server start, so its
// GPUs are not held forever.
func TestInterruptedStartReleasesGPUs(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	for _, c := range []containers.Container{
		{Name: "half", Owner: "carol", Runtime: "process", Desired: containers.DesiredRunning, Status: containers.StatusStarting, GPUs: 2},
		{Name: "fresh", Owner: "carol", Runtime: "process", Desired: containers.DesiredRunning, Status: containers.StatusCreated, GPUs: 1},
	} {
		if _, err := e.db.CreateContainer(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	if h := e.held(t, "carol"); h != 3 {
		t.Fatalf("held before = %d", h)
	}
	if _, err := e.svc.Reconcile(ctx); err != nil {
		t.Fatal(err)
	}
	if h := e.held(t, "carol"); h != 0 {
		t.Fatalf("held after the reconcile at start = %d", h)
	}
	if c, _ := e.db.GetContainer(ctx, "half", ""); c.Status != containers.StatusFailed || !strings.Contains(c.Message, "start it again") {
		t.Errorf("interrupted record = %+v", c)
	}
}

// With the runtime's GPU devices listed, concurrent starts get devices no
// other container holds, a start is refused when too few are free (and
// the refusal audited), and a stop gives its devices back; a restart
// keeps its own devices.
func TestGPUDevicesAreExclusive(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	devices := []string{"0", "1", "GPU-8c4e"}
	e.opts.GPUDevices = map[string][]string{"process": devices}
	svc := e.newService(t)
	users := []*access.Principal{gpuUser("carol"), gpuUser("dave")}
	const n = 8
	errs := startAtOnce(svc, n, func(i int) (*access.Principal, containers.StartRequest) {
		return users[i%2], containers.StartRequest{Name: fmt.Sprintf("g%d", i), GPUs: 1}
	})
	started := 0
	for i, err := range errs {
		switch {
		case err == nil:
			started++
		case errdefs.IsLimit(err) && strings.Contains(err.Error(), "GPU devices: the process runtime has 3 GPU(s)"):
		default:
			t.Errorf("start %d: %v", i, err)
		}
	}
	if started != len(devices) {
		t.Fatalf("%d of %d one-GPU starts succeeded with %d devices: want exactly %d", started, n, len(devices), len(devices))
	}
	// Each running runtime container has its own device, and the records agree.
	owner := map[string]string{}
	live, _ := e.rt.List(ctx, nil)
	for _, c := range live {
		spec, _ := e.rt.Spec(c.ID)
		if c.State != runtime.StateRunning || spec.GPUs == 0 {
			continue
		}
		if len(spec.GPUDevices) != 1 {
			t.Fatalf("container %s got devices %v for 1 GPU", spec.Name, spec.GPUDevices)
		}
		if prev, dup := owner[spec.GPUDevices[0]]; dup {
			t.Fatalf("device %s given to %s and %s", spec.GPUDevices[0], prev, spec.Name)
		}
		owner[spec.GPUDevices[0]] = spec.Name
	}
	if len(owner) != len(devices) {
		t.Fatalf("devices given: %v, want all of %v", owner, devices)
	}
	if !e.hasAction("container.start denied carol") && !e.hasAction("container.start denied dave") {
		t.Errorf("device refusals not audited: %q", e.actions())
	}
	all, _ := e.db.ListContainers(ctx)
	var running []string
	for _, c := range all {
		if containers.HoldsGPUs(c) {
			running = append(running, c.Name)
			if len(c.GPUDevices) != 1 || owner[c.GPUDevices[0]] == "" {
				t.Errorf("record %s holds devices %v", c.Name, c.GPUDevices)
			}
		}
	}
	// A stop gives the device back: the next start gets it.
	first := running[0]
	var p *access.Principal
	for _, c := range all {
		if c.Name == first {
			p = gpuUser(c.Owner)
		}
	}
	rec, _ := e.db.GetContainer(ctx, first, "")
	freed := rec.GPUDevices[0]
	if _, err := svc.Stop(ctx, p, first); err != nil {
		t.Fatal(err)
	}
	c, err := svc.Start(ctx, gpuUser("erin"), containers.StartRequest{Name: "late", GPUs: 1})
	if err != nil || len(c.GPUDevices) != 1 || c.GPUDevices[0] != freed {
		t.Fatalf("start after a stop = %+v, %v; want device %s", c.GPUDevices, err, freed)
	}
	// A restart of a running container keeps its device.
	again, err := svc.Start(ctx, gpuUser("erin"), containers.StartRequest{Name: "late", GPUs: 1})
	if err != nil || len(again.GPUDevices) != 1 || again.GPUDevices[0] != freed {
		t.Fatalf("restart = %+v, %v; want device %s kept", again.GPUDevices, err, freed)
	}
}
