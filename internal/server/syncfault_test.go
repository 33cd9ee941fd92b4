package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dockyard/dockyard/internal/access"
	"github.com/dockyard/dockyard/internal/client"
	"github.com/dockyard/dockyard/internal/config"
	"github.com/dockyard/dockyard/internal/containers"
	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/server/servertest"
	"github.com/dockyard/dockyard/internal/wire"
)

// The sync fault tests run a real server with the process runtime (this
// test binary is the agent) and push-based sync on, edit notebooks on the
// container's disk as an editor would, and inject faults: an immediate
// stop, a SIGKILLed agent, an immediate removal, a server outage. No edit
// may be lost. Passes every sync_interval are off (an hour), so only the
// push path and the final sync store anything.

func syncFaultConfig(t *testing.T, dir string) config.Config {
	cfg := servertest.Config(dir)
	cfg.Containers.SyncInterval = time.Hour
	cfg.Containers.SyncWatchScan = 100 * time.Millisecond
	cfg.Containers.FinalSyncTimeout = 2 * time.Minute
	return cfg
}

// startBox starts alice's container "box" and returns its notebooks
// directory on disk, once the first sync placed alice's notebook "nb"
// there (so the agent's change feed is followed).
func startBox(t *testing.T, h *servertest.Harness, alice *client.Client) string {
	t.Helper()
	ctx := context.Background()
	if _, err := alice.StartContainer(ctx, "box", wire.ContainerStart{}); err != nil {
		t.Fatalf("start: %v", err)
	}
	dirs, _ := filepath.Glob(filepath.Join(h.Data, "containers", "*", "root", "notebooks"))
	if len(dirs) != 1 {
		t.Fatalf("container notebook dirs = %v, want one", dirs)
	}
	waitFor(t, "nb.py restored into the container", func() error {
		_, err := os.Stat(filepath.Join(dirs[0], "nb.py"))
		return err
	})
	return dirs[0]
}

// waitFor polls cond until it returns nil, failing after a generous
// deadline (the machine may be loaded).
func waitFor(t *testing.T, what string, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %v", what, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// newest checks that alice's notebook name's newest version is want,
// stored from the container box as alice's work.
func newest(ctx context.Context, alice *client.Client, name, want string) error {
	b, v, err := alice.NotebookContent(ctx, name, 0)
	if err != nil {
		return err
	}
	if string(b) != want {
		return fmt.Errorf("newest version %d of %s is %q, want %q", v, name, b, want)
	}
	vs, err := alice.NotebookHistory(ctx, name)
	if err != nil {
		return err
	}
	if last := vs[len(vs)-1]; last.Source != "container:box" || last.Author != "alice" {
		return fmt.Errorf("newest version of %s: source %q author %q, want container:box by alice", name, last.Source, last.Author)
	}
	return nil
}

func nbSource(s string) string { return "def fit(model, df, param):\n    return {'edit': " + s + "}\n" }

func syncFaultSetup(t *testing.T) (*servertest.Harness, *client.Client, string) {
	h := servertest.StartConfig(t, syncFaultConfig(t, t.TempDir()))
	cleanupContainers(t, h)
	alice := h.User("alice", access.RoleContainerUser)
	if _, err := alice.PushNotebook(context.Background(), "nb", "py", "", []byte(nbSource("0"))); err != nil {
		t.Fatalf("push: %v", err)
	}
	return h, alice, startBox(t, h, alice)
}

// TestSyncFaultEditThenStop: an edit written just before containers stop
// is in the notebook's history once stop returns (the final sync).
func TestSyncFaultEditThenStop(t *testing.T) {
	ctx := context.Background()
	h, alice, dir := syncFaultSetup(t)
	if err := os.WriteFile(filepath.Join(dir, "nb.py"), []byte(nbSource("'stop'")), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := alice.StopContainer(ctx, "box"); err != nil {
		t.Fatalf("stop: %v", err)
	}
	if err := newest(ctx, alice, "nb", nbSource("'stop'")); err != nil {
		t.Fatalf("after stop: %v", err)
	}
	if all := auditActions(t, h); !hasEvent(all, `"container.stop"`, `"final_sync":"ok"`) {
		t.Errorf("no container.stop audit event recording the final sync")
	}
}

// TestSyncFaultEditThenRemove: an edit written just before containers
// remove is saved before the container and its files go.
func TestSyncFaultEditThenRemove(t *testing.T) {
	ctx := context.Background()
	_, alice, dir := syncFaultSetup(t)
	if err := os.WriteFile(filepath.Join(dir, "made-inside.py"), []byte(nbSource("'new'")), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "nb.py"), []byte(nbSource("'remove'")), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := alice.RemoveContainer(ctx, "box"); err != nil {
		t.Fatalf("remove: %v", err)
	}
	if err := newest(ctx, alice, "nb", nbSource("'remove'")); err != nil {
		t.Fatalf("after remove: %v", err)
	}
	if err := newest(ctx, alice, "made-inside", nbSource("'new'")); err != nil {
		t.Fatalf("after remove: %v", err)
	}
}

// TestSyncFaultRefusedStop: an edit the final sync cannot store (a
// notebook that is not valid) makes stop refuse, saying what to do;
// --force stops it and the audit event says it was forced.
func TestSyncFaultRefusedStop(t *testing.T) {
	ctx := context.Background()
	h, alice, dir := syncFaultSetup(t)
	if err := os.WriteFile(filepath.Join(dir, "torn.ipynb"), []byte(`{"cells": [`), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := alice.StopContainer(ctx, "box")
	if !errdefs.IsConflict(err) || !strings.Contains(err.Error(), "torn.ipynb") || !strings.Contains(err.Error(), "--force") {
		t.Fatalf("stop with an unsaveable edit = %v, want a conflict naming torn.ipynb and --force", err)
	}
	if c, err := alice.StopContainerWith(ctx, "box", true); err != nil || c.Status != containers.StatusStopped {
		t.Fatalf("forced stop = %+v, %v", c, err)
	}
	all := auditActions(t, h)
	if !hasEvent(all, `"container.stop"`, `"failure"`, `torn.ipynb`) || !hasEvent(all, `"container.stop"`, `"forced":true`) {
		t.Errorf("refused and forced stops not audited")
	}
	if !hasEvent(all, `"notebook.sync"`, `"failure"`, `container:box`) {
		t.Errorf("the failed final sync is not an audit event")
	}
}

// TestSyncFaultAgentKilled: an edit, then SIGKILL of the agent before it
// could report the change, then a start: the restarted agent's files are
// synced again and the edit is saved.
func TestSyncFaultAgentKilled(t *testing.T) {
	ctx := context.Background()
	h, alice, dir := syncFaultSetup(t)
	p, err := h.Srv.Access().EffectivePrincipal(ctx, "alice", "")
	if err != nil {
		t.Fatal(err)
	}
	// The process runtime's record holds the host pid of what it started
	// (the agent, or bubblewrap around it, whose children die with it).
	recs, _ := filepath.Glob(filepath.Join(h.Data, "containers", "*", "container.json"))
	if len(recs) != 1 {
		t.Fatalf("process runtime records = %v, want one", recs)
	}
	b, err := os.ReadFile(recs[0])
	if err != nil {
		t.Fatal(err)
	}
	var rec struct {
		PID int `json:"pid"`
	}
	if err := json.Unmarshal(b, &rec); err != nil || rec.PID <= 1 {
		t.Fatalf("process runtime record %s: pid %d, %v", recs[0], rec.PID, err)
	}
	if err := os.WriteFile(filepath.Join(dir, "nb.py"), []byte(nbSource("'killed'")), 0o644); err != nil {
		t.Fatal(err)
	}
	killTree(t, rec.PID)
	waitFor(t, "the container is seen stopped", func() error {
		c, err := h.Srv.Containers().Get(ctx, p, "box")
		if err == nil && c.Status == containers.StatusRunning {
			err = fmt.Errorf("still running")
		}
		return err
	})
	// Removing it now would delete the edit with its files: refused.
	if err := alice.RemoveContainer(ctx, "box"); !errdefs.IsConflict(err) || !strings.Contains(err.Error(), "start it again") {
		t.Fatalf("remove of a container that exited without a final sync = %v, want a conflict", err)
	}
	if _, err := alice.StartContainer(ctx, "box", wire.ContainerStart{}); err != nil {
		t.Fatalf("start again: %v", err)
	}
	waitFor(t, "the edit made before the kill is saved", func() error { return newest(ctx, alice, "nb", nbSource("'killed'")) })
}

// TestSyncFaultPushWithoutPass: with the passes of sync_interval an hour
// apart, an edit is stored by the push path alone (the agent reports the
// change, the server pulls it).
func TestSyncFaultPushWithoutPass(t *testing.T) {
	ctx := context.Background()
	h, alice, dir := syncFaultSetup(t)
	if err := os.WriteFile(filepath.Join(dir, "nb.py"), []byte(nbSource("'pushed'")), 0o644); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the edit is pushed", func() error { return newest(ctx, alice, "nb", nbSource("'pushed'")) })
	// The audit event is written just after the version.
	waitFor(t, "a notebook.sync audit event for the pushed edit", func() error {
		if !hasEvent(auditActions(t, h), `"notebook.sync"`, `"alice"`, `container:box`, `"success"`) {
			return fmt.Errorf("none yet")
		}
		return nil
	})
}

// TestSyncFaultServerOutage: the server is down for a while (30 s; 3 s
// with -short) as notebooks in a running container change; a new server
// on the same data directory adopts the container and stores the last
// content of every notebook.
func TestSyncFaultServerOutage(t *testing.T) {
	ctx := context.Background()
	dataDir := t.TempDir()
	cfg := syncFaultConfig(t, dataDir)
	h1 := servertest.StartConfig(t, cfg)
	cleanupContainers(t, h1)
	alice := h1.User("alice", access.RoleContainerUser)
	if _, err := alice.PushNotebook(ctx, "nb", "py", "", []byte(nbSource("0"))); err != nil {
		t.Fatalf("push: %v", err)
	}
	dir := startBox(t, h1, alice)
	h1.Stop()

	outage := 30 * time.Second
	if testing.Short() {
		outage = 3 * time.Second
	}
	end := time.Now().Add(outage)
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	var last string
	for i := 1; time.Now().Before(end); i++ {
		last = nbSource(fmt.Sprint(i))
		if err := os.WriteFile(filepath.Join(dir, "nb.py"), []byte(last), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("during%d.py", i%3)), []byte(last), 0o644); err != nil {
			t.Fatal(err)
		}
		<-tick.C
	}

	h2 := servertest.StartConfig(t, cfg)
	alice2 := h2.User("alice", access.RoleContainerUser)
	waitFor(t, "the last edit of the outage is stored", func() error { return newest(ctx, alice2, "nb", last) })
	for i := range 3 {
		name := fmt.Sprintf("during%d", i)
		b, err := os.ReadFile(filepath.Join(dir, name+".py"))
		if err != nil {
			t.Fatal(err)
		}
		waitFor(t, name+" is stored", func() error { return newest(ctx, alice2, name, string(b)) })
	}
}

// killTree sends SIGKILL to pid and all its descendants (host pids, read
// from /proc), so that the agent dies without any chance to act.
func killTree(t *testing.T, pid int) {
	t.Helper()
	parent := map[int]int{}
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		n, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: comm may hold spaces; split after it.
		rest := string(b[strings.LastIndexByte(string(b), ')')+1:])
		var state string
		var ppid int
		if _, err := fmt.Sscan(rest, &state, &ppid); err == nil {
			parent[n] = ppid
		}
	}
	tree := []int{pid}
	for i := 0; i < len(tree); i++ {
		for c, pp := range parent {
			if pp == tree[i] {
				tree = append(tree, c)
			}
		}
	}
	for _, p := range tree {
		if err := syscall.Kill(p, syscall.SIGKILL); err != nil && p == pid {
			t.Fatalf("kill %d: %v", p, err)
		}
	}
}
