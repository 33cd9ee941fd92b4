package server_test

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dockyard/dockyard/internal/access"
	"github.com/dockyard/dockyard/internal/cli"
	"github.com/dockyard/dockyard/internal/client"
	"github.com/dockyard/dockyard/internal/containers"
	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/runtime"
	"github.com/dockyard/dockyard/internal/runtime/process"
	"github.com/dockyard/dockyard/internal/server/servertest"
	"github.com/dockyard/dockyard/internal/wire"
)

// The process runtime runs os.Executable() as `dockyard agent`: in tests
// that is this test binary, which runs the CLI when DOCKYARD_TEST_MAIN is
// set (the os/exec helper-process pattern).
func TestMain(m *testing.M) {
	if os.Getenv("DOCKYARD_TEST_MAIN") == "1" {
		os.Exit(cli.Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
	}
	os.Setenv("DOCKYARD_TEST_MAIN", "1")
	code := m.Run()
	reapAgents()
	os.Exit(code)
}

// reapAgents kills the agents this test binary started and left running
// (tests that start containers without removing them): process-runtime
// containers outlive their server by design, so nothing else would.
func reapAgents() {
	self, _ := os.Executable()
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...
		i := strings.LastIndexByte(string(stat), ')')
		f := strings.Fields(string(stat)[i+1:])
		if len(f) < 2 || f[1] != strconv.Itoa(os.Getpid()) {
			continue
		}
		if exe, _ := os.Readlink(filepath.Join("/proc", e.Name(), "exe")); exe == self {
			syscall.Kill(-pid, syscall.SIGKILL)
		}
	}
}

// cleanupContainers removes every process-runtime container under the data
// dir when the test ends: they outlive the server by design.
func cleanupContainers(t *testing.T, h *servertest.Harness) {
	t.Cleanup(func() {
		rt, err := process.New(process.Config{BaseDir: filepath.Join(h.Data, "containers"), Issuer: h.Srv.CA()})
		if err != nil {
			t.Errorf("cleanup: %v", err)
			return
		}
		cs, _ := rt.List(context.Background(), nil)
		for _, c := range cs {
			_ = rt.Remove(context.Background(), c.ID)
		}
	})
}

func auditActions(t *testing.T, h *servertest.Harness) string {
	t.Helper()
	var b strings.Builder
	for rec, err := range h.Srv.Store().AuditRecords(context.Background(), 0) {
		if err != nil {
			t.Fatalf("audit records: %v", err)
		}
		b.WriteString(rec.Body)
		b.WriteByte('\n')
	}
	return b.String()
}

func hasEvent(all string, parts ...string) bool {
	for _, line := range strings.Split(all, "\n") {
		ok := true
		for _, p := range parts {
			if !strings.Contains(line, p) {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}

func findContainer(cs []wire.Container, name string) (wire.Container, bool) {
	for _, c := range cs {
		if c.Name == name {
			return c, true
		}
	}
	return wire.Container{}, false
}

func TestContainersThroughTheAPI(t *testing.T) {
	ctx := context.Background()
	h := servertest.Start(t)
	cleanupContainers(t, h)
	carol := h.User("carol", access.RoleContainerUser)
	pat := h.User("pat", access.RolePower)
	uma := h.User("uma", access.RoleUser)

	for _, c := range []*client.Client{uma, pat} {
		_, err := c.StartContainer(ctx, "web", wire.ContainerStart{})
		if !errdefs.IsPermissionDenied(err) || !strings.Contains(err.Error(), "control_mltk_container") {
			t.Fatalf("start without control_mltk_container = %v, want 403 naming the capability", err)
		}
	}
	if _, err := uma.Containers(ctx); !errdefs.IsPermissionDenied(err) || !strings.Contains(err.Error(), "list_mltk_container") {
		t.Fatalf("plain user list = %v, want 403 naming list_mltk_container", err)
	}
	if _, err := carol.StartContainer(ctx, "gpu", wire.ContainerStart{GPUs: 1}); !errdefs.IsPermissionDenied(err) || !strings.Contains(err.Error(), "use_gpu") {
		t.Fatalf("GPU start without use_gpu = %v", err)
	}

	x, err := carol.StartContainer(ctx, "web", wire.ContainerStart{Model: "M"})
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	if x.Status != "running" || !strings.HasPrefix(x.Endpoint, "https://127.0.0.1:") || x.Owner != "carol" ||
		x.Image != "dockyard/process" || x.Runtime != "process" || x.Started == nil || x.Model != "M" {
		t.Fatalf("started = %+v", x)
	}
	cs, err := carol.Containers(ctx)
	if err != nil {
		t.Fatalf("list: %v", err)
	}
	if c, ok := findContainer(cs, "web"); !ok || c.Status != "running" || c.Endpoint != x.Endpoint {
		t.Fatalf("list = %+v", cs)
	}
	// Others see only their own containers and those shared with them.
	if cs, err := pat.Containers(ctx); err != nil || len(cs) != 0 {
		t.Fatalf("list as power = %+v, %v; want none of carol's", cs, err)
	}
	// The agent answers over TLS verified by the server CA, with its token.
	pc, err := h.Srv.Access().EffectivePrincipal(ctx, "carol", "")
	if err != nil {
		t.Fatal(err)
	}
	hd, err := h.Srv.Containers().Ensure(ctx, pc, "web", containers.EnsureOptions{})
	if err != nil {
		t.Fatalf("Ensure: %v", err)
	}
	if err := hd.Agent().Healthy(ctx); err != nil {
		t.Fatalf("agent health: %v", err)
	}
	if _, err := hd.Agent().GetNotebook(ctx, "absent.py"); !errdefs.IsNotFound(err) {
		t.Fatalf("authenticated agent call = %v, want not found", err)
	}
	rc, err := carol.ContainerLogs(ctx, "web", time.Time{})
	if err != nil {
		t.Fatalf("logs: %v", err)
	}
	io.Copy(io.Discard, rc)
	rc.Close()
	if _, err := uma.ContainerLogs(ctx, "web", time.Time{}); !errdefs.IsPermissionDenied(err) {
		t.Errorf("plain user logs = %v", err)
	}
	if _, err := uma.StopContainer(ctx, "web"); !errdefs.IsPermissionDenied(err) {
		t.Errorf("plain user stop = %v", err)
	}
	st, err := carol.StopContainer(ctx, "web")
	if err != nil || st.Status != "stopped" || st.Endpoint != "" {
		t.Fatalf("stop = %+v, %v", st, err)
	}
	if err := hd.Agent().Healthy(ctx); err == nil {
		t.Errorf("agent still answers after stop")
	}
	all := auditActions(t, h)
	for _, want := range [][]string{
		{`"container.start"`, `"carol"`, `"success"`},
		{`"container.stop"`, `"carol"`, `"success"`},
		{`"container.start"`, `"uma"`, `"denied"`},
	} {
		if !hasEvent(all, want...) {
			t.Errorf("no audit event with %v", want)
		}
	}
}

func TestContainersAdoptedAfterRestart(t *testing.T) {
	ctx := context.Background()
	cfg := servertest.Config(t.TempDir())
	h1 := servertest.StartConfig(t, cfg)
	cleanupContainers(t, h1)
	carol := h1.User("carol", access.RoleContainerUser)
	x, err := carol.StartContainer(ctx, "keep", wire.ContainerStart{})
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	// An orphan: a container of this server that no record knows.
	rt, err := process.New(process.Config{BaseDir: filepath.Join(cfg.Data, "containers"), Issuer: h1.Srv.CA(), Command: testAgentCommand})
	if err != nil {
		t.Fatal(err)
	}
	orphan, err := rt.Create(ctx, runtime.Spec{Name: "orphan", Labels: map[string]string{runtime.LabelServerID: h1.Srv.ID(), runtime.LabelOwner: "mallory"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := rt.Start(ctx, orphan.ID); err != nil {
		t.Fatal(err)
	}
	h1.Stop()

	h2 := servertest.StartConfig(t, cfg)
	carol = h2.User("carol", access.RoleContainerUser)
	cs, err := carol.Containers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	c, ok := findContainer(cs, "keep")
	if !ok || c.Status != "running" || c.Endpoint != x.Endpoint {
		t.Fatalf("after restart = %+v, want keep adopted, running at %s", cs, x.Endpoint)
	}
	if _, ok := findContainer(cs, "orphan"); ok {
		t.Errorf("orphan listed as a container: %+v", cs)
	}
	if oc, err := rt.Inspect(ctx, orphan.ID); err != nil || oc.State != runtime.StateExited {
		t.Errorf("orphan = %+v, %v; want it stopped (and kept)", oc, err)
	}
	all := auditActions(t, h2)
	if !hasEvent(all, `"container.adopt"`, `"container:keep"`) {
		t.Errorf("no container.adopt audit event")
	}
	if !hasEvent(all, `"container.quarantine"`, `"container:orphan"`) {
		t.Errorf("no container.quarantine audit event")
	}
	if _, err := carol.StopContainer(ctx, "keep"); err != nil {
		t.Errorf("stop adopted container: %v", err)
	}
}
