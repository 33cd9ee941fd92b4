package storetest

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/dockyard/dockyard/internal/store"
)

// RunFiles checks an implementation's store.Files and its stores'
// Snapshot, for implementations kept in one file: a missing file passes
// Check and is created by Open; a snapshot holds what was written before
// it and not what was written after, passes Check and opens; Snapshot
// refuses a destination that exists; a file that is not a store fails
// Check with an error IsCorrupt recognises.
func RunFiles(t *testing.T, files store.Files) {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "live.db")
	if err := files.Check(ctx, path); err != nil {
		t.Fatalf("Check(missing file) = %v, want nil (Open creates it)", err)
	}
	st, err := files.Open(ctx, path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer st.Close()
	if err := st.PutSetting(ctx, "before", "1"); err != nil {
		t.Fatal(err)
	}
	snap := filepath.Join(dir, "snap.db")
	if err := st.Snapshot(ctx, snap); err != nil {
		t.Fatalf("Snapshot: %v", err)
	}
	if err := st.PutSetting(ctx, "after", "1"); err != nil {
		t.Fatal(err)
	}
	if err := st.Snapshot(ctx, snap); err == nil {
		t.Error("Snapshot over an existing file succeeded, want an error")
	}
	if err := files.Check(ctx, snap); err != nil {
		t.Fatalf("Check(snapshot): %v", err)
	}
	cp, err := files.Open(ctx, snap)
	if err != nil {
		t.Fatalf("Open(snapshot): %v", err)
	}
	defer cp.Close()
	if v, err := cp.GetSetting(ctx, "before"); err != nil || v != "1" {
		t.Errorf("snapshot setting before = %q, %v; want 1", v, err)
	}
	if _, err := cp.GetSetting(ctx, "after"); err == nil {
		t.Error("the snapshot holds a write made after it")
	}

	junk := filepath.Join(dir, "junk.db")
	if err := os.WriteFile(junk, []byte("this is not a database, only some bytes long enough to look like a header....................................."), 0o600); err != nil {
		t.Fatal(err)
	}
	err = files.Check(ctx, junk)
	if err == nil {
		t.Fatal("Check(not a store) = nil, want an error")
	}
	if !files.IsCorrupt(err) {
		t.Errorf("IsCorrupt(%v) = false, want true", err)
	}
}
