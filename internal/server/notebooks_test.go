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

const testNotebook = `{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [
 {"cell_type": "code", "metadata": {"name": "mltkc_fit"}, "source": ["def fit(model, df, param):\n", "    return {}\n"]}]}`

func TestNotebooksThroughTheAPI(t *testing.T) {
	ctx := context.Background()
	h := servertest.Start(t)
	alice := h.User("alice", access.RoleUser)
	bob := h.User("bob", access.RoleUser)

	res, err := alice.PushNotebook(ctx, "lr", "ipynb", "", []byte(testNotebook))
	if err != nil || !res.Changed || res.Version != 1 || res.Owner != "alice" || res.Sharing != "user" || !strings.HasPrefix(res.Digest, "sha256:") {
		t.Fatalf("push = %+v, %v", res, err)
	}
	if res, err = alice.PushNotebook(ctx, "lr", "ipynb", "", []byte(testNotebook)); err != nil || res.Changed || res.Version != 1 {
		t.Fatalf("unchanged push = %+v, %v", res, err)
	}
	if res, err = alice.PushNotebook(ctx, "lr", "py", "", []byte("def fit(m, df, p):\n    return {}\n")); err != nil || !res.Changed || res.Version != 2 {
		t.Fatalf("changed push = %+v, %v", res, err)
	}
	vs, err := alice.NotebookHistory(ctx, "lr")
	if err != nil || len(vs) != 2 || vs[0].Version != 1 || vs[1].Author != "alice" || vs[0].Size != int64(len(testNotebook)) {
		t.Fatalf("history = %+v, %v", vs, err)
	}
	b, v, err := alice.NotebookContent(ctx, "lr", 1)
	if err != nil || v != 1 || string(b) != testNotebook {
		t.Fatalf("content of version 1 = %d %q, %v", v, b, err)
	}
	for name, f := range map[string]func() error{
		"history": func() error { _, err := bob.NotebookHistory(ctx, "lr"); return err },
		"content": func() error { _, _, err := bob.NotebookContent(ctx, "lr", 0); return err },
		"show":    func() error { _, err := bob.Notebook(ctx, "lr"); return err },
	} {
		if err := f(); !errdefs.IsNotFound(err) || !strings.Contains(err.Error(), "notebook not found: lr") {
			t.Errorf("bob %s of alice's notebook = %v, want `notebook not found: lr`", name, err)
		}
	}
	if ns, err := bob.Notebooks(ctx); err != nil || len(ns) != 0 {
		t.Errorf("bob lists %+v, %v", ns, err)
	}
	if ns, err := alice.Notebooks(ctx); err != nil || len(ns) != 1 || ns[0].Version != 2 {
		t.Errorf("alice lists %+v, %v", ns, err)
	}
	_, err = alice.PushNotebook(ctx, "bad", "ipynb", "", []byte(`{"nbformat": 4, "cells": [{"cell_type": "code", "metadata": {}, "source": []}]}`))
	if !errdefs.IsInvalid(err) || !strings.Contains(err.Error(), `metadata key "name"`) {
		t.Errorf("push without named cells = %v", err)
	}
	_, err = alice.PushNotebook(ctx, "bad", "ipynb", "", []byte(`{"nbformat": 4, "cells": [`))
	if !errdefs.IsInvalid(err) || !strings.Contains(err.Error(), "not valid JSON") {
		t.Errorf("push of broken JSON = %v", err)
	}
	if !hasEvent(auditActions(t, h), `"notebook.push"`, `"alice"`, `"notebook:search/alice/lr"`) {
		t.Errorf("no notebook.push audit event")
	}
}

func TestNotebookShareAndDelete(t *testing.T) {
	ctx := context.Background()
	h := servertest.Start(t)
	alice := h.User("alice", access.RoleUser, access.RolePower)
	bob := h.User("bob", access.RoleUser)
	notFound := func(what string, err error) {
		t.Helper()
		if !errdefs.IsNotFound(err) || !strings.Contains(err.Error(), "notebook not found: lr") {
			t.Errorf("%s = %v, want `notebook not found: lr`", what, err)
		}
	}
	if _, err := alice.PushNotebook(ctx, "lr", "ipynb", "", []byte(testNotebook)); err != nil {
		t.Fatal(err)
	}
	_, err := bob.Notebook(ctx, "lr")
	notFound("bob show of a private notebook", err)
	notFound("bob delete of a notebook he cannot read", bob.DeleteNotebook(ctx, "lr"))
	_, err = bob.ShareNotebook(ctx, "lr", "global", nil, nil)
	notFound("bob share of a notebook he cannot read", err)

	// bob may not publish code to the app (plain user: no publish_notebooks).
	if _, err := bob.PushNotebook(ctx, "mine", "ipynb", "", []byte(testNotebook)); err != nil {
		t.Fatal(err)
	}
	if _, err := bob.ShareNotebook(ctx, "mine", "app", nil, nil); !errdefs.IsPermissionDenied(err) || !strings.Contains(err.Error(), "publish_notebooks") {
		t.Fatalf("plain user sharing a notebook at app level = %v, want 403 naming publish_notebooks", err)
	}
	if err := bob.DeleteNotebook(ctx, "mine"); err != nil {
		t.Fatal(err)
	}
	n, err := alice.ShareNotebook(ctx, "lr", "app", nil, nil)
	if err != nil || n.Sharing != "app" || n.Version != 1 || n.Owner != "alice" {
		t.Fatalf("alice share = %+v, %v", n, err)
	}
	if vs, err := bob.NotebookHistory(ctx, "lr"); err != nil || len(vs) != 1 || vs[0].Author != "alice" {
		t.Fatalf("bob history after share = %+v, %v", vs, err)
	}
	if err := bob.DeleteNotebook(ctx, "lr"); !errdefs.IsPermissionDenied(err) {
		t.Errorf("bob delete of a read-only notebook = %v, want permission denied", err)
	}
	if _, err := bob.ShareNotebook(ctx, "lr", "global", nil, nil); !errdefs.IsPermissionDenied(err) {
		t.Errorf("bob share of alice's notebook = %v, want permission denied", err)
	}
	if _, err := alice.ShareNotebook(ctx, "lr", "everyone", nil, nil); !errdefs.IsInvalid(err) {
		t.Errorf("share with a bad level = %v, want invalid", err)
	}

	// carol's own private "lr" cannot join alice's at app level.
	carol := h.User("carol", access.RoleUser, access.RolePower)
	if _, err := carol.PushNotebook(ctx, "lr", "ipynb", "", []byte(testNotebook)); err != nil {
		t.Fatal(err)
	}
	if _, err := carol.ShareNotebook(ctx, "lr", "app", nil, nil); !errdefs.IsConflict(err) || !strings.Contains(err.Error(), "already has a shared notebook lr") {
		t.Errorf("second app-level lr = %v, want conflict", err)
	}
	if err := carol.DeleteNotebook(ctx, "lr"); err != nil {
		t.Fatalf("carol deletes her own: %v", err)
	}

	if err := alice.DeleteNotebook(ctx, "lr"); err != nil {
		t.Fatalf("alice delete: %v", err)
	}
	_, err = alice.Notebook(ctx, "lr")
	notFound("alice show after delete", err)
	_, err = bob.NotebookHistory(ctx, "lr")
	notFound("bob history after delete", err)
	for _, c := range []interface {
		Notebooks(context.Context) ([]wire.Notebook, error)
	}{alice, bob} {
		if ns, err := c.Notebooks(ctx); err != nil || len(ns) != 0 {
			t.Errorf("list after delete = %+v, %v", ns, err)
		}
	}
	all := auditActions(t, h)
	for _, want := range [][]string{
		{`"notebook.share"`, `"alice"`, `"notebook:search/lr"`},
		{`"notebook.delete"`, `"alice"`, `"notebook:search/lr"`},
		{`"notebook.delete"`, `"bob"`, `"denied"`},
		{`"notebook.share"`, `"bob"`, `"denied"`},
	} {
		if !hasEvent(all, want...) {
			t.Errorf("no audit event with %v", want)
		}
	}
}
