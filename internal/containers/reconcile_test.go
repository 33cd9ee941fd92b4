package containers_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/dockyard/dockyard/internal/access"
	"github.com/dockyard/dockyard/internal/containers"
	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/runtime"
)

func eventually(t *testing.T, what string, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %v", what, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestReconcilerRunsContinuously: the periodic reconciler quarantines an
// orphan that appears while the server runs and marks a vanished
// container lost, without re-adopting live ones; the orphan shows in its
// owner's and administrators' listings, and is removed only with force
// (its files cannot be synced), audited.
func TestReconcilerRunsContinuously(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	e := newEnv(t)
	cu := principal("carol", access.RoleContainerUser)
	mallory := principal("mallory", access.RoleContainerUser)
	admin := principal("root", access.RoleAdmin)
	for _, n := range []string{"keep", "gone"} {
		if _, err := e.svc.Start(ctx, cu, containers.StartRequest{Name: n}); err != nil {
			t.Fatal(err)
		}
	}
	done := make(chan struct{})
	go func() { defer close(done); e.svc.RunReconciler(ctx, 20*time.Millisecond) }()
	defer func() { cancel(); <-done }()

	orphan, err := e.rt.Create(ctx, runtime.Spec{Name: "ghost", Labels: map[string]string{runtime.LabelServerID: "srv1", runtime.LabelOwner: "mallory", runtime.LabelContainer: "ghost"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.rt.Start(ctx, orphan.ID); err != nil {
		t.Fatal(err)
	}
	gone, _ := e.db.GetContainer(ctx, "gone", "")
	if err := e.rt.Remove(ctx, gone.RuntimeID); err != nil {
		t.Fatal(err)
	}
	eventually(t, "orphan quarantined and vanished container lost", func() error {
		if !e.hasAction("container.quarantine success system container:ghost") || !e.hasAction("container.lost failure system container:gone") {
			return fmt.Errorf("audit events so far: %v", e.actions())
		}
		return nil
	})
	if c, _ := e.rt.Inspect(ctx, orphan.ID); c.State == runtime.StateRunning {
		t.Errorf("the orphan still runs")
	}
	listed := func(p *access.Principal) string {
		cs, err := e.svc.ListFor(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range cs {
			if c.Name == "ghost" {
				return c.Status
			}
		}
		return ""
	}
	if listed(mallory) != containers.StatusQuarantined || listed(admin) != containers.StatusQuarantined || listed(cu) != "" {
		t.Errorf("ghost listed as %q to its owner, %q to an admin, %q to carol; want quarantined, quarantined, absent",
			listed(mallory), listed(admin), listed(cu))
	}
	if err := e.svc.RemoveWith(ctx, cu, "ghost", containers.StopOptions{Force: true}); !errdefs.IsNotFound(err) {
		t.Errorf("carol removing mallory's orphan = %v, want not found", err)
	}
	err = e.svc.Remove(ctx, mallory, "ghost")
	if !errdefs.IsConflict(err) || !strings.Contains(err.Error(), "--force") {
		t.Fatalf("remove of an orphan without force = %v, want a conflict naming --force", err)
	}
	if err := e.svc.RemoveWith(ctx, mallory, "ghost", containers.StopOptions{Force: true}); err != nil {
		t.Fatalf("forced remove of the orphan: %v", err)
	}
	if _, err := e.rt.Inspect(ctx, orphan.ID); !errdefs.IsNotFound(err) {
		t.Errorf("orphan still in the runtime: %v", err)
	}
	if listed(mallory) != "" {
		t.Errorf("a removed orphan is still listed")
	}
	n := 0
	for _, a := range e.actions() {
		if strings.HasPrefix(a, "container.quarantine") {
			n++
		}
		if strings.HasPrefix(a, "container.adopt") {
			t.Errorf("a periodic pass re-adopted a live container: %s", a)
		}
	}
	if n != 1 {
		t.Errorf("the orphan was quarantined %d times, want once", n)
	}
	if !e.hasAction("container.remove success mallory container:ghost") || !e.hasAction("container.remove failure mallory container:ghost") {
		t.Errorf("orphan removals not audited: %v", e.actions())
	}
}
