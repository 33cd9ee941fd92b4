package notebooks_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dockyard/dockyard/internal/access"
	blobfs "github.com/dockyard/dockyard/internal/blob/fs"
	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/notebooks"
	"github.com/dockyard/dockyard/internal/store/sqlite"
)

const goodNB = `{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [
 {"cell_type": "markdown", "metadata": {}, "source": ["# hi"]},
 {"cell_type": "code", "metadata": {"name": "mltkc_fit"}, "source": ["def fit(model, df, param):\n", "    return {}\n"]}]}`

func newService(t *testing.T) *notebooks.Service {
	t.Helper()
	dir := t.TempDir()
	db, err := sqlite.Open(context.Background(), filepath.Join(dir, "db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	bs, err := blobfs.New(filepath.Join(dir, "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	return notebooks.New(db, bs, nil)
}

func principal(user string, roles ...string) *access.Principal {
	return &access.Principal{User: user, Roles: roles, App: "search", Caps: access.CapSet{access.CapSearch: true}, Apps: access.MemberOf("search")}
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		name, format, content, want string
	}{
		{"good ipynb", "ipynb", goodNB, ""},
		{"py", "py", "def fit(m, df, p):\n    return {}\n", ""},
		{"bad utf8", "py", "x = '\xff'\n", "not valid UTF-8"},
		{"not json", "ipynb", "{\"cells\": [\n  oops]}", "not valid JSON (line 2, column 3"},
		{"nbformat 3", "ipynb", `{"nbformat": 3, "cells": []}`, `"nbformat" is 3, not 4`},
		{"no cells", "ipynb", `{"nbformat": 4}`, `no "cells" list`},
		{"cells not a list", "ipynb", `{"nbformat": 4, "cells": {}}`, "not an nbformat-4 notebook"},
		{"no name", "ipynb", `{"nbformat": 4, "cells": [{"cell_type": "code", "metadata": {"tags": []}, "source": []}]}`, `metadata key "name"`},
		{"name on markdown only", "ipynb", `{"nbformat": 4, "cells": [{"cell_type": "markdown", "metadata": {"name": "x"}, "source": []}]}`, `metadata key "name"`},
		{"empty", "py", "", "is empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := notebooks.Validate("f."+tc.format, tc.format, []byte(tc.content))
			if tc.want == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil || !errdefs.IsInvalid(err) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Validate = %v, want an invalid error containing %q", err, tc.want)
			}
		})
	}
}

func TestPushHistoryAndVisibility(t *testing.T) {
	ctx := context.Background()
	s := newService(t)
	alice, bob := principal("alice", "user"), principal("bob", "user")
	r, err := s.Push(ctx, alice, notebooks.PushRequest{Name: "lr", Format: "ipynb", Content: []byte(goodNB)})
	if err != nil || !r.Changed || !r.Created || r.Current.Version != 1 || r.Owner != "alice" || r.Sharing != "user" {
		t.Fatalf("first push = %+v, %v", r, err)
	}
	r, err = s.Push(ctx, alice, notebooks.PushRequest{Name: "lr", Format: "ipynb", Content: []byte(goodNB)})
	if err != nil || r.Changed || r.Current.Version != 1 {
		t.Fatalf("same content again = %+v, %v; want no new version", r, err)
	}
	r, err = s.Push(ctx, alice, notebooks.PushRequest{Name: "lr", Format: "py", Content: []byte("def fit(m, d, p):\n    pass\n")})
	if err != nil || !r.Changed || r.Current.Version != 2 {
		t.Fatalf("changed push = %+v, %v", r, err)
	}
	_, vs, err := s.History(ctx, alice, "lr")
	if err != nil || len(vs) != 2 || vs[0].Format != "ipynb" || vs[1].Author != "alice" {
		t.Fatalf("History = %+v, %v", vs, err)
	}
	_, v, b, err := s.Content(ctx, alice, "lr", 1)
	if err != nil || v.Version != 1 || string(b) != goodNB {
		t.Fatalf("Content(1) = %d %q, %v", v.Version, b, err)
	}
	if _, _, _, err := s.Content(ctx, alice, "lr", 3); !errdefs.IsNotFound(err) {
		t.Errorf("Content(3) = %v, want not found", err)
	}
	// Bob may not read alice's private notebook: it does not exist for him.
	for _, f := range []func() error{
		func() error { _, err := s.Get(ctx, bob, "lr"); return err },
		func() error { _, _, err := s.History(ctx, bob, "lr"); return err },
		func() error { _, _, _, err := s.Content(ctx, bob, "lr", 0); return err },
	} {
		if err := f(); !errdefs.IsNotFound(err) || !strings.HasPrefix(err.Error(), "notebook not found: lr;") {
			t.Errorf("bob reads alice's notebook: %v, want `notebook not found: lr`", err)
		}
	}
	if l, _ := s.List(ctx, bob); len(l) != 0 {
		t.Errorf("bob lists %+v, want nothing", l)
	}
	// Bob's push of the same name makes his own private notebook.
	r, err = s.Push(ctx, bob, notebooks.PushRequest{Name: "lr", Format: "py", Content: []byte("x = 1\n")})
	if err != nil || !r.Created || r.Owner != "bob" {
		t.Fatalf("bob's push = %+v, %v", r, err)
	}
	// An app-shared notebook is read by others in the app, but a private
	// one of the same name wins for its owner.
	carol := principal("carol", "power")
	carol.Caps[access.CapPublishNotebooks] = true
	if _, err := s.Push(ctx, carol, notebooks.PushRequest{Name: "shared", Format: "py", Content: []byte("y = 2\n"), Sharing: access.SharingApp}); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Get(ctx, bob, "shared"); err != nil || got.Owner != "carol" {
		t.Errorf("bob reads carol's app-shared notebook: %+v, %v", got, err)
	}
	other := principal("dave", "user")
	other.App = "other"
	if _, err := s.Get(ctx, other, "shared"); !errdefs.IsNotFound(err) {
		t.Errorf("a user of another app reads an app-shared notebook: %v", err)
	}
	l, err := s.List(ctx, alice)
	if err != nil || len(l) != 2 {
		t.Errorf("alice lists %d notebooks, want her own and the app-shared one: %+v, %v", len(l), l, err)
	}
	if _, err := s.Push(ctx, alice, notebooks.PushRequest{Name: "bad", Format: "ipynb", Content: []byte(`{"nbformat":4,"cells":[]}`)}); !errdefs.IsInvalid(err) {
		t.Errorf("push of a notebook without named cells = %v, want invalid", err)
	}
	if _, err := s.Push(ctx, alice, notebooks.PushRequest{Name: "a/b", Format: "py", Content: []byte("x")}); !errdefs.IsInvalid(err) {
		t.Errorf("push with a bad name = %v, want invalid", err)
	}
}
