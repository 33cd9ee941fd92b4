package notebooks_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/dockyard/dockyard/internal/audit"
	blobfs "github.com/dockyard/dockyard/internal/blob/fs"
	"github.com/dockyard/dockyard/internal/notebooks"
	"github.com/dockyard/dockyard/internal/store/sqlite"
)

type refusing struct{ action string }

func (r *refusing) Record(_ context.Context, e audit.Event) error {
	if e.Action == r.action {
		return errors.New("audit store: disk full")
	}
	return nil
}

// A notebook change whose audit event cannot be written is not made; a
// refused first push leaves no notebook without a version.
func TestNotebookChangeRollsBackWithoutItsAuditEvent(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db, err := sqlite.Open(ctx, filepath.Join(dir, "db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	bs, err := blobfs.New(filepath.Join(dir, "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	s := notebooks.New(db, bs, nil)
	rec := &refusing{action: "notebook.push"}
	s.SetRecorder(rec)
	alice := principal("alice", "user")

	if _, err := s.Push(ctx, alice, notebooks.PushRequest{Name: "lr", Format: "ipynb", Content: []byte(goodNB)}); err == nil {
		t.Fatal("push succeeded without its audit event")
	}
	if nbs, err := db.FindNotebooks(ctx, "lr"); err != nil || len(nbs) != 0 {
		t.Fatalf("a refused first push left %+v, %v", nbs, err)
	}
	rec.action = ""
	if _, err := s.Push(ctx, alice, notebooks.PushRequest{Name: "lr", Format: "ipynb", Content: []byte(goodNB)}); err != nil {
		t.Fatal(err)
	}
	rec.action = "notebook.push"
	if _, err := s.Push(ctx, alice, notebooks.PushRequest{Name: "lr", Format: "py", Content: []byte("def fit(m, d, p):\n    pass\n")}); err == nil {
		t.Fatal("second push succeeded without its audit event")
	}
	rec.action = "notebook.delete"
	if _, err := s.Delete(ctx, alice, "lr"); err == nil {
		t.Fatal("delete succeeded without its audit event")
	}
	nbs, err := db.FindNotebooks(ctx, "lr")
	if err != nil || len(nbs) != 1 || nbs[0].Latest != 1 {
		t.Fatalf("after refused events the notebook is %+v, %v; want it with version 1 only", nbs, err)
	}
}
