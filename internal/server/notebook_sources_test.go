package server_test

import (
	"context"
	"strings"
	"testing"

	"github.com/dockyard/dockyard/internal/access"
	"github.com/dockyard/dockyard/internal/containers"
	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/server/servertest"
	"github.com/dockyard/dockyard/internal/wire"
)

// TestNotebookPushSharingNeedsPublish: `notebooks push --sharing app|global`
// needs what `notebooks share` needs; a plain user gets the same answer
// from both, and nothing is stored.
func TestNotebookPushSharingNeedsPublish(t *testing.T) {
	ctx := context.Background()
	h := servertest.Start(t)
	uma := h.User("uma", access.RoleUser)
	pat := h.User("pat", access.RolePower)
	nb := []byte(markerNotebook("1"))

	if _, err := uma.PushNotebook(ctx, "x", "py", "", nb); err != nil {
		t.Fatalf("private push: %v", err)
	}
	for _, level := range []string{"app", "global"} {
		_, shareErr := uma.ShareNotebook(ctx, "x", level, nil, nil)
		_, pushErr := uma.PushNotebook(ctx, "x", "py", level, []byte(markerNotebook("2")))
		if !errdefs.IsPermissionDenied(shareErr) || !strings.Contains(shareErr.Error(), "publish_notebooks") {
			t.Fatalf("share --sharing %s = %v, want permission denied naming publish_notebooks", level, shareErr)
		}
		if pushErr == nil || pushErr.Error() != shareErr.Error() {
			t.Errorf("push --sharing %s = %v\nwant the answer of share: %v", level, pushErr, shareErr)
		}
		_, freshErr := uma.PushNotebook(ctx, "fresh", "py", level, nb)
		if freshErr == nil || freshErr.Error() != strings.ReplaceAll(shareErr.Error(), "notebook x", "notebook fresh") {
			t.Errorf("push of a new notebook --sharing %s = %v, want %v", level, freshErr, shareErr)
		}
	}
	if vs, err := uma.NotebookHistory(ctx, "x"); err != nil || len(vs) != 1 {
		t.Errorf("x's history after refused pushes = %+v, %v; want its one version", vs, err)
	}
	if n, err := uma.Notebook(ctx, "x"); err != nil || n.Sharing != "user" {
		t.Errorf("x after refused pushes = %+v, %v; want it private", n, err)
	}
	if _, err := uma.Notebook(ctx, "fresh"); !errdefs.IsNotFound(err) {
		t.Errorf("a refused push stored notebook fresh: %v", err)
	}
	if all := auditActions(t, h); !hasEvent(all, `"notebook.push"`, `notebook:search/fresh`, `"denied"`) {
		t.Errorf("the refused push is not in the audit log: %s", all)
	}
	// publish_notebooks (power) may.
	if res, err := pat.PushNotebook(ctx, "pub", "py", "app", nb); err != nil || res.Sharing != "app" {
		t.Errorf("power user's push --sharing app = %+v, %v", res, err)
	}
}

// TestSyncedNotebookRecordsContainer: a notebook written inside a
// container is stored authored by the container's owner with the
// container as its source; a shared notebook the owner may only read is
// never changed by it (the edit becomes the owner's private notebook).
func TestSyncedNotebookRecordsContainer(t *testing.T) {
	ctx := context.Background()
	h := servertest.Start(t)
	cleanupContainers(t, h)
	alice := h.User("alice", access.RoleContainerUser)
	pat := h.User("pat", access.RolePower)
	if _, err := pat.PushNotebook(ctx, "common", "py", "app", []byte(markerNotebook("1"))); err != nil {
		t.Fatal(err)
	}
	if _, err := alice.StartContainer(ctx, containers.DevName, wire.ContainerStart{}); err != nil {
		t.Fatalf("start: %v", err)
	}
	ag := agentOf(t, h, "alice")
	if _, err := ag.PutNotebook(ctx, "made.py", []byte(markerNotebook("5"))); err != nil {
		t.Fatal(err)
	}
	if _, err := ag.PutNotebook(ctx, "common.py", []byte(markerNotebook("6"))); err != nil {
		t.Fatal(err)
	}
	sy, err := h.Srv.NotebookSyncer()
	if err != nil {
		t.Fatal(err)
	}
	if rep, err := sy.SyncOnce(ctx); err != nil || len(rep.Stored) != 2 {
		t.Fatalf("sync = %+v, %v; want made.py and common.py stored", rep, err)
	}
	for _, name := range []string{"made", "common"} {
		vs, err := alice.NotebookHistory(ctx, name)
		if err != nil || len(vs) != 1 || vs[0].Author != "alice" || vs[0].Source != "container:alice/__dev__" {
			t.Errorf("alice's %s history = %+v, %v; want one version by alice from container:alice/__dev__", name, vs, err)
		}
		if n, err := alice.Notebook(ctx, name); err != nil || n.Owner != "alice" || n.Sharing != "user" {
			t.Errorf("alice's %s = %+v, %v; want her private notebook", name, n, err)
		}
	}
	if vs, err := pat.NotebookHistory(ctx, "common"); err != nil || len(vs) != 1 || vs[0].Author != "pat" || vs[0].Source != "" {
		t.Errorf("pat's shared common history = %+v, %v; want only pat's push", vs, err)
	}
	if a := auditActions(t, h); !strings.Contains(a, "notebook.sync") {
		t.Errorf("no notebook.sync audit event: %s", a)
	}
}
