package containers_test

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/dockyard/dockyard/internal/access"
	"github.com/dockyard/dockyard/internal/containers"
	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/runtime"
)

func TestStartStopLogs(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	cu := principal("carol", access.RoleContainerUser)
	c, err := e.svc.Start(ctx, cu, containers.StartRequest{Name: "web", Model: "M"})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	if c.Status != containers.StatusRunning || c.Image != "dockyard/process" || c.Runtime != "process" || c.Endpoint == "" ||
		c.StartedBy != "carol" || c.Owner != "carol" || c.Started.IsZero() || c.Model != "M" {
		t.Fatalf("Start = %+v", c)
	}
	spec, _ := e.rt.Spec(c.RuntimeID)
	if spec.Labels[runtime.LabelServerID] != "srv1" || spec.Labels[runtime.LabelContainer] != "web" ||
		spec.Labels[runtime.LabelOwner] != "carol" || spec.Labels[runtime.LabelModel] != "M" || spec.Name != "web" {
		t.Errorf("runtime spec = %+v", spec)
	}
	// Starting again reuses the running container.
	again, err := e.svc.Start(ctx, cu, containers.StartRequest{Name: "web"})
	if err != nil || again.RuntimeID != c.RuntimeID {
		t.Errorf("second Start = %+v, %v; want the same container", again, err)
	}
	list, err := e.svc.List(ctx)
	if err != nil || len(list) != 1 || list[0].Status != containers.StatusRunning {
		t.Fatalf("List = %+v, %v", list, err)
	}
	rc, err := e.svc.Logs(ctx, cu, "web", time.Time{})
	if err != nil {
		t.Fatalf("Logs: %v", err)
	}
	b, _ := io.ReadAll(rc)
	rc.Close()
	if !strings.Contains(string(b), "agent started") {
		t.Errorf("Logs = %q", b)
	}
	st, err := e.svc.Stop(ctx, cu, "web")
	if err != nil || st.Status != containers.StatusStopped || st.Desired != containers.DesiredStopped || st.Endpoint != "" {
		t.Fatalf("Stop = %+v, %v", st, err)
	}
	if rcs, _ := e.rt.Inspect(ctx, c.RuntimeID); rcs.State != runtime.StateExited {
		t.Errorf("runtime state after Stop = %s", rcs.State)
	}
	// Starting a stopped container starts the same runtime container.
	re, err := e.svc.Start(ctx, cu, containers.StartRequest{Name: "web"})
	if err != nil || re.RuntimeID != c.RuntimeID || re.Status != containers.StatusRunning {
		t.Errorf("restart = %+v, %v", re, err)
	}
	// A different image makes a new container.
	img, err := e.svc.Start(ctx, cu, containers.StartRequest{Name: "web", Image: "other/image"})
	if err != nil || img.RuntimeID == c.RuntimeID || img.Image != "other/image" {
		t.Errorf("start with another image = %+v, %v", img, err)
	}
	if _, err := e.rt.Inspect(ctx, c.RuntimeID); !errdefs.IsNotFound(err) {
		t.Errorf("old container not removed: %v", err)
	}
	if err := e.svc.Remove(ctx, cu, "web"); err != nil {
		t.Fatalf("Remove: %v", err)
	}
	if l, _ := e.svc.List(ctx); len(l) != 0 {
		t.Errorf("List after Remove = %+v", l)
	}
	for _, want := range []string{"container.start success carol container:web", "container.stop success carol", "container.remove success carol"} {
		if !e.hasAction(want) {
			t.Errorf("no audit event %q in %q", want, e.actions())
		}
	}
}

func TestStartRefusals(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	for _, tc := range []struct {
		name string
		p    *access.Principal
		req  containers.StartRequest
		kind func(error) bool
		want string
	}{
		{"plain user", principal("u", access.RoleUser), containers.StartRequest{Name: "x"}, errdefs.IsPermissionDenied, `"control_mltk_container"`},
		{"power user", principal("pw", access.RolePower), containers.StartRequest{Name: "x"}, errdefs.IsPermissionDenied, `"control_mltk_container"`},
		{"gpus without use_gpu", principal("c", access.RoleContainerUser), containers.StartRequest{Name: "x", GPUs: 1}, errdefs.IsPermissionDenied, `"use_gpu"`},
		{"bad name", principal("c", access.RoleContainerUser), containers.StartRequest{Name: "a b"}, errdefs.IsInvalid, "container name"},
		{"reserved prefix", principal("c", access.RoleContainerUser), containers.StartRequest{Name: "dev-x"}, errdefs.IsInvalid, "dev-"},
		{"unknown runtime", principal("c", access.RoleContainerUser), containers.StartRequest{Name: "x", Runtime: "docker"}, errdefs.IsInvalid, `"docker" is not available`},
		{"external", principal("c", access.RoleContainerUser), containers.StartRequest{Name: "x", Runtime: "external"}, errdefs.IsInvalid, "register"},
		{"other's dev", principal("c", access.RoleContainerUser), containers.StartRequest{Name: "bob/__dev__"}, errdefs.IsNotFound, "container not found: bob/__dev__"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.svc.Start(ctx, tc.p, tc.req)
			if err == nil || !tc.kind(err) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Start = %v, want an error containing %s", err, tc.want)
			}
		})
	}
	if l, _ := e.rt.List(ctx, nil); len(l) != 0 {
		t.Errorf("refused starts created containers: %+v", l)
	}
	if !e.hasAction("container.start denied u") {
		t.Errorf("refusal not audited: %q", e.actions())
	}
	// use_gpu allows GPUs.
	admin := principal("root", access.RoleAdmin)
	if c, err := e.svc.Start(ctx, admin, containers.StartRequest{Name: "gpu", GPUs: 2}); err != nil || c.GPUs != 2 {
		t.Errorf("admin GPU start = %+v, %v", c, err)
	}
	if _, err := e.svc.Stop(ctx, principal("u", access.RoleUser), "gpu"); !errdefs.IsPermissionDenied(err) || !strings.Contains(err.Error(), "control_mltk_container") {
		t.Errorf("plain user Stop = %v", err)
	}
}

func TestStartFailureRecorded(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	e.rt.FailStart["broken"] = errdefs.Unavailable("agent did not answer")
	_, err := e.svc.Start(ctx, principal("c", access.RoleContainerUser), containers.StartRequest{Name: "broken"})
	if !errdefs.IsUnavailable(err) {
		t.Fatalf("Start = %v, want unavailable", err)
	}
	got, err := e.db.GetContainer(ctx, "broken", "")
	if err != nil || got.Status != containers.StatusFailed || !strings.Contains(got.Message, "agent did not answer") {
		t.Errorf("record = %+v, %v", got, err)
	}
	if !e.hasAction("container.start failure c") {
		t.Errorf("failure not audited: %q", e.actions())
	}
}

// TestMissingDevContainerHint: an administrator stopping "__dev__" while
// only another user has one is told how to address it.
func TestMissingDevContainerHint(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	carol := principal("carol", access.RoleContainerUser)
	if _, err := e.svc.Start(ctx, carol, containers.StartRequest{Name: containers.DevName}); err != nil {
		t.Fatal(err)
	}
	admin := principal("root", access.RoleAdmin)
	_, err := e.svc.Stop(ctx, admin, containers.DevName)
	if !errdefs.IsNotFound(err) || !strings.Contains(err.Error(), "USER/__dev__") {
		t.Fatalf("stopping a missing own dev container: %v", err)
	}
	if _, err := e.svc.Stop(ctx, admin, "carol/"+containers.DevName); err != nil {
		t.Fatalf("stopping carol/__dev__ as admin: %v", err)
	}
}
