package nbsync_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"path/filepath"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/dockyard/dockyard/internal/access"
	"github.com/dockyard/dockyard/internal/agent"
	"github.com/dockyard/dockyard/internal/audit"
	blobfs "github.com/dockyard/dockyard/internal/blob/fs"
	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/nbsync"
	"github.com/dockyard/dockyard/internal/notebooks"
	"github.com/dockyard/dockyard/internal/store"
	"github.com/dockyard/dockyard/internal/store/sqlite"
)

const nb1 = `{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [
 {"cell_type": "code", "metadata": {"name": "mltkc_fit"}, "source": ["def fit(model, df, param):\n", "    return {}\n"]}]}`

const nb2 = `{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [
 {"cell_type": "code", "metadata": {"name": "mltkc_fit"}, "source": ["def fit(model, df, param):\n", "    return {'v': 2}\n"]}]}`

// fakeAgent is a container's notebooks directory in memory.
type fakeAgent struct{ files map[string][]byte }

func sum(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

func (a *fakeAgent) ListNotebooks(context.Context) ([]agent.FileInfo, error) {
	var out []agent.FileInfo
	for n, b := range a.files {
		out = append(out, agent.FileInfo{Path: n, Size: int64(len(b)), SHA256: sum(b)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

func (a *fakeAgent) GetNotebook(_ context.Context, name string) ([]byte, error) {
	b, ok := a.files[name]
	if !ok {
		return nil, errdefs.NotFound(name)
	}
	return b, nil
}

func (a *fakeAgent) PutNotebook(_ context.Context, name string, b []byte) (agent.FileInfo, error) {
	a.files[name] = b
	return agent.FileInfo{Path: name, Size: int64(len(b)), SHA256: sum(b)}, nil
}

type fakeContainers []store.Container

func (f *fakeContainers) List(context.Context) ([]store.Container, error) { return *f, nil }

type principals struct{}

func (principals) EffectivePrincipal(_ context.Context, user, app string) (*access.Principal, error) {
	if app == "" {
		app = "search"
	}
	return &access.Principal{User: user, App: app, Roles: []string{access.RoleUser}, Apps: access.MemberOf(app)}, nil
}

type fixture struct {
	nbs    *notebooks.Service
	cs     fakeContainers
	agents map[string]*fakeAgent // by RuntimeID
	audit  *audit.Memory
	sy     *nbsync.Syncer
	alice  *access.Principal
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	blobs, err := blobfs.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{nbs: notebooks.New(db, blobs, nil), agents: map[string]*fakeAgent{}, audit: &audit.Memory{}}
	f.alice, _ = principals{}.EffectivePrincipal(ctx, "alice", "")
	f.sy, err = nbsync.New(nbsync.Options{Containers: &f.cs, Notebooks: f.nbs, Principals: principals{}, Audit: f.audit,
		Dial: func(_ context.Context, c store.Container) (nbsync.Agent, error) {
			a, ok := f.agents[c.RuntimeID]
			if !ok {
				return nil, errdefs.Unavailable("agent of " + c.Name + " does not answer")
			}
			return a, nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) add(c store.Container) *fakeAgent {
	a := &fakeAgent{files: map[string][]byte{}}
	f.agents[c.RuntimeID] = a
	f.cs = append(f.cs, c)
	return a
}

func (f *fixture) push(t *testing.T, name, content string) {
	t.Helper()
	if _, err := f.nbs.Push(context.Background(), f.alice, notebooks.PushRequest{Name: name, Format: "ipynb", Content: []byte(content)}); err != nil {
		t.Fatal(err)
	}
}

func TestSyncSkipsContainersItDoesNotManage(t *testing.T) {
	f := newFixture(t)
	f.push(t, "lr", nb1)
	for _, c := range []store.Container{
		{ID: 1, Name: "ext", Owner: "alice", Runtime: "external", Status: "running", RuntimeID: "r1"},
		{ID: 2, Name: "stopped", Owner: "alice", Runtime: "process", Status: "stopped", RuntimeID: "r2"},
		{ID: 3, Name: "noowner", Runtime: "process", Status: "running", RuntimeID: "r3"},
	} {
		f.add(c).files["mine.ipynb"] = []byte(nb2)
	}
	f.cs = append(f.cs, store.Container{ID: 4, Name: "gone", Owner: "alice", Runtime: "process", Status: "running", RuntimeID: "r4"})
	rep, err := f.sy.SyncOnce(context.Background())
	if err != nil || len(rep.Stored)+len(rep.Restored)+len(rep.Invalid) != 0 || len(rep.Failed) != 1 {
		t.Fatalf("pass = %+v, %v", rep, err)
	}
	for _, a := range f.agents {
		if _, ok := a.files["lr.ipynb"]; ok {
			t.Errorf("restored into a container the sync does not manage")
		}
	}
}

func TestSyncStaleCopiesAndRestore(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	f.push(t, "lr", nb1)
	f.push(t, "lr", nb2)
	f.push(t, "other", nb1)
	started := time.Unix(100, 0)
	c := store.Container{ID: 1, Name: "__dev__", Scope: "alice", Owner: "alice", Runtime: "process", Status: "running", RuntimeID: "r1", Started: started}
	a := f.add(c)
	a.files["lr.ipynb"] = []byte(nb1)    // stale: version 1's content
	a.files["other.ipynb"] = []byte("{") // an edit that is not valid yet
	rep, err := f.sy.SyncOnce(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Stored) != 0 || !slices.Equal(rep.Invalid, []string{"alice/__dev__: other.ipynb"}) ||
		!slices.Equal(rep.Restored, []string{"alice/__dev__: lr.ipynb"}) {
		t.Fatalf("pass = %+v", rep)
	}
	if string(a.files["lr.ipynb"]) != nb2 {
		t.Errorf("stale copy not replaced by the newest version")
	}
	if string(a.files["other.ipynb"]) != "{" {
		t.Errorf("restore overwrote an edit the sync had not stored")
	}
	_, vs, _ := f.nbs.History(ctx, f.alice, "lr")
	if len(vs) != 2 {
		t.Errorf("stale copy stored: %d versions", len(vs))
	}
	// Restore runs once per start: a copy made stale later stays.
	a.files["lr.ipynb"] = []byte(nb1)
	if rep, _ = f.sy.SyncOnce(ctx); len(rep.Restored)+len(rep.Stored) != 0 {
		t.Errorf("second pass = %+v", rep)
	}
	// A restart is a new start: restored again.
	f.cs[0].Started = started.Add(time.Minute)
	if rep, _ = f.sy.SyncOnce(ctx); !slices.Equal(rep.Restored, []string{"alice/__dev__: lr.ipynb"}) {
		t.Errorf("pass after a restart = %+v", rep)
	}
	// The edit, once valid, is stored and audited.
	a.files["other.ipynb"] = []byte(nb2)
	if rep, _ = f.sy.SyncOnce(ctx); !slices.Equal(rep.Stored, []string{"alice/__dev__: other.ipynb"}) {
		t.Errorf("pass after fixing the edit = %+v", rep)
	}
	es := f.audit.Events()
	if !slices.ContainsFunc(es, func(e audit.Event) bool {
		return e.Action == "notebook.sync" && e.User == "alice" && e.Object == "notebook:search/other" && e.Details["container"] == "alice/__dev__"
	}) {
		t.Errorf("no notebook.sync event in %+v", es)
	}
}

func TestSyncNewNeedsItsParts(t *testing.T) {
	if _, err := nbsync.New(nbsync.Options{}); !errdefs.IsInvalid(err) {
		t.Errorf("New without parts = %v", err)
	}
}
