package storetest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/store"
)

func testNotebooks(t *testing.T, open Opener) {
	ctx := context.Background()
	st := open(t)
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)
	n, err := st.CreateNotebook(ctx, store.Notebook{Name: "nb", App: "search", Owner: "alice", Sharing: "user", Created: t0})
	if err != nil || n.ID == 0 || n.Latest != 0 {
		t.Fatalf("CreateNotebook = %+v, %v", n, err)
	}
	if _, err := st.CreateNotebook(ctx, store.Notebook{Name: "nb", App: "search", Owner: "alice", Sharing: "user"}); !errdefs.IsConflict(err) {
		t.Fatalf("duplicate CreateNotebook = %v, want conflict", err)
	}
	shared, err := st.CreateNotebook(ctx, store.Notebook{Name: "nb", App: "search", Owner: "bob", Sharing: "app", Read: []string{"power"}})
	if err != nil {
		t.Fatalf("private and shared of one name: %v", err)
	}
	if _, err := st.CreateNotebook(ctx, store.Notebook{Name: "nb", App: "search", Owner: "bob", Sharing: "global"}); !errdefs.IsConflict(err) {
		t.Fatalf("bob's second shared nb = %v, want conflict", err)
	}
	bobPriv, err := st.CreateNotebook(ctx, store.Notebook{Name: "nb", App: "search", Owner: "bob", Sharing: "user"})
	if err != nil {
		t.Fatal(err)
	}
	v1, err := st.AddNotebookVersion(ctx, n.ID, store.NotebookVersion{Format: "ipynb", Digest: "sha256:1", Size: 10, Author: "alice", Source: "container:alice/__dev__", Created: t0})
	if err != nil || v1.Version != 1 {
		t.Fatalf("AddNotebookVersion = %+v, %v", v1, err)
	}
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := st.AddNotebookVersion(ctx, n.ID, store.NotebookVersion{Format: "py", Digest: "sha256:2", Size: 3, Author: "alice"}); err != nil {
				t.Errorf("concurrent AddNotebookVersion: %v", err)
			}
		}()
	}
	wg.Wait()
	vs, err := st.NotebookVersions(ctx, n.ID)
	if err != nil || len(vs) != 5 {
		t.Fatalf("NotebookVersions = %+v, %v", vs, err)
	}
	for i, v := range vs {
		if v.Version != i+1 {
			t.Errorf("version %d numbered %d", i+1, v.Version)
		}
	}
	if vs[0].Digest != "sha256:1" || vs[0].Format != "ipynb" || vs[0].Size != 10 || !vs[0].Created.Equal(t0) || vs[0].Author != "alice" ||
		vs[0].Source != "container:alice/__dev__" || vs[1].Source != "" {
		t.Errorf("version 1 = %+v", vs[0])
	}
	got, err := st.GetNotebook(ctx, n.ID)
	if err != nil || got.Latest != 5 {
		t.Fatalf("GetNotebook = %+v, %v; want latest 5", got, err)
	}
	found, err := st.FindNotebooks(ctx, "nb")
	if err != nil || len(found) != 3 {
		t.Fatalf("FindNotebooks = %+v, %v", found, err)
	}
	shared.Sharing, shared.Write = "global", []string{"user"}
	if err := st.UpdateNotebook(ctx, shared); err != nil {
		t.Fatalf("UpdateNotebook: %v", err)
	}
	if g, _ := st.GetNotebook(ctx, shared.ID); g.Sharing != "global" || len(g.Write) != 1 || len(g.Read) != 1 {
		t.Errorf("after UpdateNotebook = %+v", g)
	}
	// bob's private nb may not go app-level beside his shared one.
	priv := bobPriv
	priv.Sharing = "app"
	if err := st.UpdateNotebook(ctx, priv); !errdefs.IsConflict(err) {
		t.Errorf("UpdateNotebook to a taken app scope = %v, want conflict", err)
	}
	if g, _ := st.GetNotebook(ctx, priv.ID); g.Sharing != "user" {
		t.Errorf("refused UpdateNotebook changed sharing to %q", g.Sharing)
	}
	all, err := st.ListNotebooks(ctx)
	if err != nil || len(all) != 3 {
		t.Fatalf("ListNotebooks = %+v, %v", all, err)
	}
	if err := st.DeleteNotebook(ctx, n.ID); err != nil {
		t.Fatalf("DeleteNotebook: %v", err)
	}
	if _, err := st.GetNotebook(ctx, n.ID); !errdefs.IsNotFound(err) {
		t.Errorf("GetNotebook(deleted) = %v, want not found", err)
	}
	if _, err := st.AddNotebookVersion(ctx, n.ID, store.NotebookVersion{Format: "py", Digest: "d", Author: "a"}); !errdefs.IsNotFound(err) {
		t.Errorf("AddNotebookVersion(deleted) = %v, want not found", err)
	}
	if vs, _ := st.NotebookVersions(ctx, n.ID); len(vs) != 0 {
		t.Errorf("versions of a deleted notebook: %+v", vs)
	}
	if err := st.DeleteNotebook(ctx, n.ID); !errdefs.IsNotFound(err) {
		t.Errorf("DeleteNotebook(deleted) = %v, want not found", err)
	}
	if err := st.UpdateNotebook(ctx, n); !errdefs.IsNotFound(err) {
		t.Errorf("UpdateNotebook(deleted) = %v, want not found", err)
	}
}
