package server_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dockyard/dockyard/internal/access"
	"github.com/dockyard/dockyard/internal/containers"
	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/server/servertest"
	"github.com/dockyard/dockyard/internal/wire"
)

// TestNotebookSyncWithContainer pushes a notebook, starts its owner's
// development container (real process runtime: this test binary is the
// agent), edits notebooks inside it as Jupyter would, and runs sync passes.
func TestNotebookSyncWithContainer(t *testing.T) {
	ctx := context.Background()
	h := servertest.Start(t)
	cleanupContainers(t, h)
	alice := h.User("alice", access.RoleContainerUser)

	if _, err := alice.PushNotebook(ctx, "lr", "ipynb", "", []byte(testNotebook)); err != nil {
		t.Fatalf("push: %v", err)
	}
	if _, err := alice.StartContainer(ctx, containers.DevName, wire.ContainerStart{}); err != nil {
		t.Fatalf("start: %v", err)
	}
	sy, err := h.Srv.NotebookSyncer()
	if err != nil {
		t.Fatalf("syncer: %v", err)
	}
	// The first pass places alice's notebooks into her new container.
	rep, err := sy.SyncOnce(ctx)
	if err != nil || !slices.Contains(rep.Restored, "alice/__dev__: lr.ipynb") || len(rep.Stored) != 0 || len(rep.Failed) != 0 {
		t.Fatalf("first pass = %+v, %v", rep, err)
	}
	p, err := h.Srv.Access().EffectivePrincipal(ctx, "alice", "")
	if err != nil {
		t.Fatal(err)
	}
	hd, err := h.Srv.Containers().Ensure(ctx, p, "", containers.EnsureOptions{})
	if err != nil {
		t.Fatalf("Ensure: %v", err)
	}
	ag := hd.Agent()
	if b, err := ag.GetNotebook(ctx, "lr.ipynb"); err != nil || string(b) != testNotebook {
		t.Fatalf("restored notebook = %q, %v", b, err)
	}

	// Edits inside the container.
	edited := strings.Replace(testNotebook, `"    return {}\n"`, `"    return {'edited': True}\n"`, 1)
	if edited == testNotebook {
		t.Fatal("test notebook did not change")
	}
	if _, err := ag.PutNotebook(ctx, "lr.ipynb", []byte(edited)); err != nil {
		t.Fatalf("edit lr: %v", err)
	}
	unnamed := `{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [{"cell_type": "code", "metadata": {}, "source": []}]}`
	if _, err := ag.PutNotebook(ctx, "half.ipynb", []byte(unnamed)); err != nil {
		t.Fatalf("put half: %v", err)
	}
	fresh := "def fit(model, df, param):\n    return {'fresh': 1}\n"
	if _, err := ag.PutNotebook(ctx, "fresh.py", []byte(fresh)); err != nil {
		t.Fatalf("put fresh: %v", err)
	}
	// A half-written file straight on the container's disk, as an editor
	// saving it would leave it.
	dirs, _ := filepath.Glob(filepath.Join(h.Data, "containers", "*", "root", "notebooks"))
	if len(dirs) != 1 {
		t.Fatalf("container notebook dirs = %v, want one", dirs)
	}
	if err := os.WriteFile(filepath.Join(dirs[0], "torn.ipynb"), []byte(testNotebook[:40]), 0o644); err != nil {
		t.Fatal(err)
	}

	rep, err = sy.SyncOnce(ctx)
	if err != nil {
		t.Fatalf("sync: %v", err)
	}
	slices.Sort(rep.Stored)
	slices.Sort(rep.Invalid)
	if want := []string{"alice/__dev__: fresh.py", "alice/__dev__: lr.ipynb"}; !slices.Equal(rep.Stored, want) {
		t.Errorf("stored %v, want %v", rep.Stored, want)
	}
	if want := []string{"alice/__dev__: half.ipynb", "alice/__dev__: torn.ipynb"}; !slices.Equal(rep.Invalid, want) {
		t.Errorf("invalid %v, want %v", rep.Invalid, want)
	}
	if len(rep.Restored) != 0 || len(rep.Failed) != 0 {
		t.Errorf("second pass restored %v, failed %v", rep.Restored, rep.Failed)
	}
	vs, err := alice.NotebookHistory(ctx, "lr")
	if err != nil || len(vs) != 2 || vs[1].Version != 2 || vs[1].Author != "alice" || vs[1].Size != int64(len(edited)) {
		t.Fatalf("history = %+v, %v", vs, err)
	}
	for v, want := range map[int]string{1: testNotebook, 2: edited} {
		if b, _, err := alice.NotebookContent(ctx, "lr", v); err != nil || string(b) != want {
			t.Errorf("lr version %d = %q, %v", v, b, err)
		}
	}
	if n, err := alice.Notebook(ctx, "fresh"); err != nil || n.Owner != "alice" || n.Version != 1 || n.Format != "py" || n.Sharing != "user" {
		t.Errorf("fresh = %+v, %v", n, err)
	}
	for _, name := range []string{"half", "torn"} {
		if _, err := alice.Notebook(ctx, name); !errdefs.IsNotFound(err) {
			t.Errorf("invalid notebook %s stored: %v", name, err)
		}
	}
	if all := auditActions(t, h); !hasEvent(all, `"notebook.sync"`, `"alice"`, `"notebook:search/lr"`, `alice/__dev__`) {
		t.Errorf("no notebook.sync audit event naming the container")
	}

	// Nothing changed: nothing stored; the invalid ones are tried again.
	rep, err = sy.SyncOnce(ctx)
	if err != nil || len(rep.Stored) != 0 || len(rep.Invalid) != 2 {
		t.Errorf("idle pass = %+v, %v", rep, err)
	}
	// A push from the CLI is not reverted by the container's older copy.
	cli := strings.Replace(testNotebook, `"    return {}\n"`, `"    return {'cli': True}\n"`, 1)
	if _, err := alice.PushNotebook(ctx, "lr", "ipynb", "", []byte(cli)); err != nil {
		t.Fatalf("cli push: %v", err)
	}
	if rep, err = sy.SyncOnce(ctx); err != nil || len(rep.Stored) != 0 {
		t.Errorf("pass after a CLI push = %+v, %v", rep, err)
	}
	if vs, err := alice.NotebookHistory(ctx, "lr"); err != nil || len(vs) != 3 || vs[2].Size != int64(len(cli)) {
		t.Errorf("history after a CLI push = %+v, %v", vs, err)
	}
	// The container's next edit becomes the newest version (last writer).
	edited2 := strings.Replace(edited, "True", "False", 1)
	if _, err := ag.PutNotebook(ctx, "lr.ipynb", []byte(edited2)); err != nil {
		t.Fatal(err)
	}
	if rep, err = sy.SyncOnce(ctx); err != nil || !slices.Contains(rep.Stored, "alice/__dev__: lr.ipynb") {
		t.Errorf("pass after a second edit = %+v, %v", rep, err)
	}
	if b, v, err := alice.NotebookContent(ctx, "lr", 0); err != nil || v != 4 || string(b) != edited2 {
		t.Errorf("newest lr = %d %q, %v", v, b, err)
	}
}

// TestNotebookSyncLoop: with containers.sync_interval set, the server's own
// loop copies a notebook made inside a running container to the store.
func TestNotebookSyncLoop(t *testing.T) {
	ctx := context.Background()
	cfg := servertest.Config(t.TempDir())
	cfg.Containers.SyncInterval = 200 * time.Millisecond
	h := servertest.StartConfig(t, cfg)
	cleanupContainers(t, h)
	bob := h.User("bob", access.RoleContainerUser)
	if _, err := bob.StartContainer(ctx, containers.DevName, wire.ContainerStart{}); err != nil {
		t.Fatalf("start: %v", err)
	}
	p, err := h.Srv.Access().EffectivePrincipal(ctx, "bob", "")
	if err != nil {
		t.Fatal(err)
	}
	hd, err := h.Srv.Containers().Ensure(ctx, p, "", containers.EnsureOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := hd.Agent().PutNotebook(ctx, "loop.py", []byte("def fit(model, df, param):\n    return {}\n")); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		hist, err := bob.NotebookHistory(ctx, "loop")
		if err == nil && len(hist) == 1 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the sync loop did not store loop.py: %v %v", hist, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
