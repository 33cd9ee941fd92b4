package server_test

import (
	"context"
	"strings"
	"testing"

	"github.com/dockyard/dockyard/internal/access"
	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/server/servertest"
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
	if !hasEvent(auditActions(t, h), `"notebook.push"`, `"alice"`, `"notebook:search/lr"`) {
		t.Errorf("no notebook.push audit event")
	}
}
