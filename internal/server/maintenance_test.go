package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dockyard/dockyard/internal/access"
	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/store"
	"github.com/dockyard/dockyard/internal/wire"
)

// TestGCLeavesExactlyWhatLiveObjectsReference: after deleting a model and
// a lookup and refusing two imports, `dockyard admin gc` leaves blob bytes
// equal to what live objects reference, and every live object still reads.
func TestGCLeavesExactlyWhatLiveObjectsReference(t *testing.T) {
	ctx := context.Background()
	h := startStorage(t, t.TempDir())
	alice := populate(t, h)
	before, beforeBytes := blobFiles(t, h.Data)

	// The default grace period keeps everything this young.
	out, e, code := cliRun(t, h, adminToken(t, h), "admin", "gc", "-o", "json")
	if code != 0 {
		t.Fatalf("admin gc: %s", e)
	}
	var res wire.GCResult
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("admin gc -o json: %v: %q", err, out)
	}
	if res.Deleted != 0 || res.Recent == 0 {
		t.Fatalf("gc within the grace period deleted %d blobs (%+v), want none", res.Deleted, res)
	}

	reclaimedBefore := metricValue(t, h, "dockyard_blob_gc_reclaimed_bytes_total")
	out, e, code = cliRun(t, h, adminToken(t, h), "admin", "gc", "--grace", "0s", "-o", "json")
	if code != 0 {
		t.Fatalf("admin gc --grace 0s: %s", e)
	}
	res = wire.GCResult{}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatal(err)
	}
	after, afterBytes := blobFiles(t, h.Data)
	want := referenced(t, h)
	for d := range after {
		if !want[d] {
			t.Errorf("blob %s survived garbage collection but nothing references it", d)
		}
	}
	for d := range want {
		if _, ok := after[d]; !ok {
			t.Errorf("blob %s is referenced but was collected", d)
		}
	}
	if afterBytes != res.LiveBytes || res.MissingRefs != 0 || res.Deleted == 0 {
		t.Errorf("after gc: %d bytes stored; result %+v: want bytes = live bytes, deletions, nothing missing", afterBytes, res)
	}
	if beforeBytes-afterBytes != res.DeletedBytes || len(before)-len(after) != res.Deleted {
		t.Errorf("gc deleted %d blobs (%d bytes) but reported %d (%d bytes)", len(before)-len(after), beforeBytes-afterBytes, res.Deleted, res.DeletedBytes)
	}
	if got := metricValue(t, h, "dockyard_blob_gc_reclaimed_bytes_total") - reclaimedBefore; got != float64(res.DeletedBytes) {
		t.Errorf("dockyard_blob_gc_reclaimed_bytes_total grew by %v, want %d", got, res.DeletedBytes)
	}

	// Every live object still reads, verified.
	var archive bytes.Buffer
	if ex, err := alice.ExportModel(ctx, "keep", &archive); err != nil || ex.Version != 2 {
		t.Fatalf("export keep after gc: %+v, %v", ex, err)
	}
	if _, _, err := alice.NotebookContent(ctx, "nb", 1); err != nil {
		t.Fatalf("notebook version 1 after gc: %v", err)
	}
	rc, err := alice.LookupContent(ctx, "iris.csv")
	if err != nil {
		t.Fatal(err)
	}
	if b, err := io.ReadAll(rc); err != nil || string(b) != "a,b\n1,2\n" {
		t.Fatalf("lookup after gc: %q, %v", b, err)
	}
	rc.Close()

	ev := findEvent(auditEvents(t, h), access.AdminUser, "storage.gc", "success")
	if ev == nil {
		t.Fatal("no storage.gc audit event")
	}
	// Non-admins may not collect.
	bob := h.User("bob", access.RoleUser)
	if _, err := bob.AdminGC(ctx, "0s"); !errdefs.IsPermissionDenied(err) || !strings.Contains(err.Error(), "admin_storage") {
		t.Fatalf("gc as a plain user = %v, want refused naming admin_storage", err)
	}
}

// TestGCDuringImportsKeepsTheirBlobs runs collections back to back while
// models are imported whose files equal old garbage blobs (written again)
// and new bytes: every import's version must read back whole.
func TestGCDuringImportsKeepsTheirBlobs(t *testing.T) {
	ctx := context.Background()
	h := startStorage(t, t.TempDir())
	alice := populate(t, h)
	// Garbage the imports below store again: a deleted model's file.
	if _, _, err := alice.ImportModelDir(ctx, "old", modelDir(t, map[string]string{"model.pkl": "weights-old"}), ""); err != nil {
		t.Fatal(err)
	}
	if err := alice.DeleteModel(ctx, "old"); err != nil {
		t.Fatal(err)
	}
	// Make every stored blob look two hours old, so that collections with
	// a one-minute grace period may delete any unreferenced one.
	old := time.Now().Add(-2 * time.Hour)
	files, _ := blobFiles(t, h.Data)
	for d := range files {
		p := filepath.Join(h.Data, "blobs", "sha256", d[7:9], d[7:])
		if err := os.Chtimes(p, old, old); err != nil {
			t.Fatal(err)
		}
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var gcErr error
	runs := 0
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := h.Admin.AdminGC(ctx, "1m"); err != nil {
				gcErr = err
				return
			}
			runs++
		}
	}()
	const n = 6
	for i := range n {
		// "weights-old" sits in the store, unreferenced, since its model
		// was deleted; each import stores it again beside bytes of its own.
		dir := modelDir(t, map[string]string{"model.pkl": "weights-old", "own.bin": randomText(t, 2000)})
		if _, _, err := alice.ImportModelDir(ctx, "during"+string(rune('a'+i)), dir, ""); err != nil {
			close(stop)
			wg.Wait()
			t.Fatalf("import %d during gc: %v", i, err)
		}
	}
	close(stop)
	wg.Wait()
	if gcErr != nil {
		t.Fatal(gcErr)
	}
	t.Logf("%d collections ran during the imports", runs)
	for i := range n {
		var buf bytes.Buffer
		if _, err := alice.ExportModel(ctx, "during"+string(rune('a'+i)), &buf); err != nil {
			t.Fatalf("model imported during gc does not read back: %v", err)
		}
	}
	res, err := h.Admin.AdminGC(ctx, "0s")
	if err != nil || res.MissingRefs != 0 {
		t.Fatalf("final gc: %+v, %v; want nothing missing", res, err)
	}
}

// TestTamperedEventFailsTheSearch flips a bit in a stored event's _raw: a
// search that reads it fails with an error naming the event instead of
// serving it.
func TestTamperedEventFailsTheSearch(t *testing.T) {
	ctx := context.Background()
	h := startStorage(t, t.TempDir())
	if err := h.Srv.Store().InsertEvents(ctx, []store.EventRecord{
		{Index: "main", Time: time.Now().Add(-time.Minute), Raw: "payment ok amount=10"},
		{Index: "main", Time: time.Now(), Raw: "payment ok amount=20"},
	}); err != nil {
		t.Fatal(err)
	}
	res, err := h.Admin.SearchAll(ctx, "search index=main payment", "")
	if err != nil || len(res.Results) != 2 {
		t.Fatalf("search before tampering: %d results, %v", len(res.Results), err)
	}
	var id int64
	if err := h.Srv.SQLite().SQL().QueryRow(`SELECT id FROM events WHERE raw LIKE '%amount=20'`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	if _, err := h.Srv.SQLite().SQL().Exec(`UPDATE events SET raw = 'payment ok amount=90' WHERE id = ?`, id); err != nil {
		t.Fatal(err)
	}
	res, err = h.Admin.SearchAll(ctx, "search index=main payment", "")
	if err == nil {
		for _, r := range res.Results {
			if strings.Contains(fmt.Sprint(r), "amount=90") {
				t.Fatalf("the tampered event was served: %v", r)
			}
		}
		t.Fatalf("search over a tampered event succeeded: %v", res)
	}
	if !strings.Contains(err.Error(), fmt.Sprintf("event %d", id)) || !strings.Contains(err.Error(), "changed or damaged") {
		t.Fatalf("search over a tampered event: %v; want an error naming event %d", err, id)
	}
}

// TestCrashLeftoversRemovedAtStart: what a killed server left half-written
// (an upload's temporary file in a store directory nobody holds, a loose
// temporary file of an older version, a fit's spool file) is gone once the
// server starts again; blobs and the database are untouched.
func TestCrashLeftoversRemovedAtStart(t *testing.T) {
	dir := t.TempDir()
	h := startStorage(t, dir)
	populate(t, h)
	h.Stop()
	blobsBefore, _ := blobFiles(t, dir)
	leftovers := []string{
		filepath.Join(dir, "blobs", "tmp", "store-123", ".lock"),
		filepath.Join(dir, "blobs", "tmp", "store-123", "put-456"),
		filepath.Join(dir, "blobs", "tmp", "put-789"),
		filepath.Join(dir, "tmp", "dockyard-rows-1.bin"),
	}
	for _, p := range leftovers {
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(strings.Repeat("partial ", 1000)), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	h2 := startStorage(t, dir)
	for _, p := range leftovers {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("%s survived the restart: %v", p, err)
		}
	}
	if after, _ := blobFiles(t, dir); len(after) != len(blobsBefore) {
		t.Errorf("blobs before the restart %d, after %d", len(blobsBefore), len(after))
	}
	if v, err := h2.Admin.AuditVerify(context.Background()); err != nil || !v.OK {
		t.Fatalf("audit verify: %+v, %v", v, err)
	}
}

// TestRefusedImportsLeaveNothing: an import refused for its size or for a
// file that does not match its manifest leaves the blob store exactly as it
// was, at once, without waiting for garbage collection; blobs that existed
// before (shared with live versions) stay.
func TestRefusedImportsLeaveNothing(t *testing.T) {
	ctx := context.Background()
	h := startStorage(t, t.TempDir())
	alice := populate(t, h)
	before, _ := blobFiles(t, h.Data)

	big := modelDir(t, map[string]string{"a.bin": randomText(t, 40<<10), "b.bin": randomText(t, 40<<10), "shared": "weights-1"})
	if _, _, err := alice.ImportModelDir(ctx, "toobig2", big, ""); !errdefs.IsInvalid(err) {
		t.Fatalf("import over max_import_bytes = %v, want refused", err)
	}
	var archive bytes.Buffer
	if _, err := alice.ExportModel(ctx, "keep", &archive); err != nil {
		t.Fatal(err)
	}
	// A new file the manifest does not list, besides the live ones.
	tampered := bytes.Replace(archive.Bytes(), []byte("weights-2"), []byte("weights-Z"), 1)
	if _, err := alice.ImportModelTar(ctx, "tampered2", "", bytes.NewReader(tampered)); !errdefs.IsInvalid(err) {
		t.Fatalf("import of a tampered archive = %v, want refused", err)
	}
	after, _ := blobFiles(t, h.Data)
	for d := range after {
		if _, ok := before[d]; !ok {
			t.Errorf("refused import left blob %s", d)
		}
	}
	for d := range before {
		if _, ok := after[d]; !ok {
			t.Errorf("refused import removed blob %s, which existed before", d)
		}
	}
	var buf bytes.Buffer
	if ex, err := alice.ExportModel(ctx, "keep", &buf); err != nil || ex.Version != 2 {
		t.Fatalf("keep after refused imports: %+v, %v", ex, err)
	}
}
