//go:build linux

package server_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/dockyard/dockyard/internal/access"
	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/server"
	"github.com/dockyard/dockyard/internal/server/servertest"
	"github.com/dockyard/dockyard/internal/store/sqlite"
	"github.com/dockyard/dockyard/internal/telemetry"
	"github.com/dockyard/dockyard/internal/telemetry/telemetrytest"
)

// smallTmpfs mounts a tmpfs of size bytes on a new directory, or skips.
func smallTmpfs(t *testing.T, size string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("mounting a small tmpfs to fill needs root")
	}
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size="+size+",mode=0700"); err != nil {
		t.Skipf("cannot mount a tmpfs (%v): the disk-full test needs a mount namespace that allows it", err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, syscall.MNT_DETACH); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
	})
	return dir
}

// fill writes a file until the filesystem is full and returns its path.
func fill(t *testing.T, dir string) string {
	t.Helper()
	p := filepath.Join(dir, "filler")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	chunk := bytes.Repeat([]byte{1}, 64<<10)
	for {
		if _, err := f.Write(chunk); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatal(err)
			}
			break
		}
	}
	for _, n := range []int{4096, 512, 1} { // the last pages
		for {
			if _, err := f.Write(chunk[:n]); err != nil {
				break
			}
		}
	}
	return p
}

// TestDiskFull runs a server on a small tmpfs, fills it, and tries the
// writes a user makes: each either succeeds or fails with a clear disk-full
// error whose request id is in the server log. Once space returns, nothing
// is corrupt and everything works again.
func TestDiskFull(t *testing.T) {
	ctx := context.Background()
	mnt := smallTmpfs(t, "48m")
	data := filepath.Join(mnt, "data")
	logs := &telemetrytest.LogBuffer{}
	log, err := telemetry.NewLogger(logs, "info", "json")
	if err != nil {
		t.Fatal(err)
	}
	cfg := servertest.Config(data)
	cfg.Storage.GCInterval = 0
	h := servertest.StartWith(t, cfg, log)
	alice := h.User("alice", access.RoleUser, access.RoleAdmin)
	if _, _, err := alice.ImportModelDir(ctx, "before", modelDir(t, map[string]string{"model.pkl": "weights before"}), ""); err != nil {
		t.Fatal(err)
	}
	filler := fill(t, mnt)

	ops := []struct {
		name string
		do   func() error
	}{
		{"model import", func() error {
			_, _, err := alice.ImportModelDir(ctx, "during", modelDir(t, map[string]string{"model.pkl": randomText(t, 200<<10)}), "")
			return err
		}},
		{"lookup upload", func() error {
			_, err := alice.UploadLookup(ctx, "full.csv", strings.NewReader("a,b\n"+randomText(t, 100<<10)+",1\n"))
			return err
		}},
		{"notebook push", func() error {
			_, err := alice.PushNotebook(ctx, "nb", "py", "", []byte("# "+randomText(t, 100<<10)+"\ndef fit(model, df, param):\n    return {}\n"))
			return err
		}},
		{"login", func() error {
			_, err := h.Client("").Login(ctx, "alice", servertest.UserPassword)
			return err
		}},
		{"user update", func() error {
			return alice.Do(ctx, "POST", "/v1/users", map[string]any{"name": "carol", "password": "carol-password-1", "roles": []string{"user"}}, nil)
		}},
		{"model delete", func() error { return alice.DeleteModel(ctx, "before") }},
	}
	failed := 0
	for _, op := range ops {
		err := op.do()
		if err == nil {
			t.Logf("%s succeeded on the full disk (space the database had already)", op.name)
			continue
		}
		failed++
		msg := err.Error()
		if !errdefs.IsUnavailable(err) || !strings.Contains(msg, "disk is full") {
			t.Errorf("%s on a full disk: %v; want a clear disk-full error", op.name, err)
			continue
		}
		i := strings.LastIndex(msg, "request id ")
		if i < 0 {
			t.Errorf("%s: error %q carries no request id", op.name, msg)
			continue
		}
		id := strings.Fields(msg[i+len("request id "):])[0]
		if !strings.Contains(logs.String(), id) {
			t.Errorf("%s: request id %s is not in the server log", op.name, id)
		}
	}
	if failed < 3 {
		t.Errorf("only %d operations failed on a full disk; the blob writes at least must", failed)
	}

	// Space returns: nothing is corrupt, and writes work again.
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	if err := h.Srv.SQLite().QuickCheck(ctx, "dockyard.db"); err != nil {
		t.Fatalf("database after the disk was full: %v", err)
	}
	if v, err := h.Admin.AuditVerify(ctx); err != nil || !v.OK {
		t.Fatalf("audit verify after the disk was full: %+v, %v", v, err)
	}
	if _, _, err := alice.ImportModelDir(ctx, "after", modelDir(t, map[string]string{"model.pkl": "weights after"}), ""); err != nil {
		t.Fatalf("import once space returned: %v", err)
	}
	if _, err := alice.UploadLookup(ctx, "after.csv", strings.NewReader("a\n1\n")); err != nil {
		t.Fatalf("lookup upload once space returned: %v", err)
	}
	var buf bytes.Buffer
	if _, err := alice.ExportModel(ctx, "after", &buf); err != nil {
		t.Fatal(err)
	}
	gc, err := h.Admin.AdminGC(ctx, "0s")
	if err != nil || gc.MissingRefs != 0 {
		t.Fatalf("gc after the disk was full: %+v, %v", gc, err)
	}
	if left := tempFilesUnder(t, filepath.Join(data, "blobs", "tmp")); len(left) != 0 {
		t.Errorf("failed uploads left temporary files: %v", left)
	}
	h.Stop()
	if err := sqlite.Check(ctx, filepath.Join(data, server.DBFile)); err != nil {
		t.Fatalf("database after shutdown: %v", err)
	}
}

func tempFilesUnder(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() && info.Name() != ".lock" {
			out = append(out, p)
		}
		return nil
	})
	return out
}
