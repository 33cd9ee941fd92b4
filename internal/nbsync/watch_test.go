package nbsync_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/store"
)

func (f *fixture) countAudit(action, result string) int {
	n := 0
	for _, e := range f.audit.Events() {
		if e.Action == action && e.Result == result {
			n++
		}
	}
	return n
}

// TestSyncFailureAudited: a container whose agent does not answer is an
// audit event notebook.sync with result failure once per container start,
// not once per pass; it is audited again after a new start.
func TestSyncFailureAudited(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	c := store.Container{ID: 1, Name: "box", Owner: "alice", Runtime: "process", Status: "running", RuntimeID: "r1", Started: time.Unix(100, 0)}
	f.cs = append(f.cs, c) // no agent: Dial fails
	for range 3 {
		rep, err := f.sy.SyncOnce(ctx)
		if err != nil || len(rep.Failed) != 1 {
			t.Fatalf("pass = %+v, %v", rep, err)
		}
	}
	if n := f.countAudit("notebook.sync", "failure"); n != 1 {
		t.Fatalf("%d failure events after three failing passes, want 1", n)
	}
	f.cs[0].Started = time.Unix(200, 0) // started again
	if _, err := f.sy.SyncOnce(ctx); err != nil {
		t.Fatal(err)
	}
	if n := f.countAudit("notebook.sync", "failure"); n != 2 {
		t.Fatalf("%d failure events after a new start, want 2", n)
	}
}

// TestFlush: the final sync stores every edit; it fails, naming the file,
// when a notebook is not valid (its edit would be lost), and when the
// agent does not answer; each failure is audited.
func TestFlush(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	f.push(t, "lr", nb1)
	c := store.Container{ID: 1, Name: "box", Owner: "alice", Runtime: "process", Status: "running", RuntimeID: "r1"}
	a := f.add(c)
	a.files["lr.ipynb"] = []byte(nb2)
	if err := f.sy.Flush(ctx, c); err != nil {
		t.Fatalf("flush: %v", err)
	}
	_, vs, err := f.nbs.History(ctx, f.alice, "lr")
	if err != nil || len(vs) != 2 || vs[1].Source != "container:box" || vs[1].Author != "alice" {
		t.Fatalf("history after flush = %+v, %v", vs, err)
	}
	a.files["torn.ipynb"] = []byte(`{"cells": [`)
	if err := f.sy.Flush(ctx, c); !errdefs.IsInvalid(err) || !strings.Contains(err.Error(), "torn.ipynb") {
		t.Fatalf("flush with a torn notebook = %v, want invalid naming it", err)
	}
	delete(f.agents, "r1")
	if err := f.sy.Flush(ctx, c); !errdefs.IsUnavailable(err) {
		t.Fatalf("flush without an agent = %v, want unavailable", err)
	}
	if n := f.countAudit("notebook.sync", "failure"); n != 2 {
		t.Errorf("%d failure events, want 2", n)
	}
	// Not running, or external: nothing to flush.
	for _, x := range []store.Container{{Name: "s", Owner: "alice", Runtime: "process", Status: "stopped", RuntimeID: "r9"},
		{Name: "e", Owner: "alice", Runtime: "external", Status: "running", RuntimeID: "r9"}} {
		if err := f.sy.Flush(ctx, x); err != nil {
			t.Errorf("flush of %s = %v", x.Name, err)
		}
	}
}
