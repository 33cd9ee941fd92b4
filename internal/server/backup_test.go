package server_test

import (
	"bytes"
	"context"
	"database/sql"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dockyard/dockyard/internal/access"
	"github.com/dockyard/dockyard/internal/cli"
	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/index"
	"github.com/dockyard/dockyard/internal/server"
	"github.com/dockyard/dockyard/internal/server/servertest"
	"github.com/dockyard/dockyard/internal/store/sqlite"
	"github.com/dockyard/dockyard/internal/telemetry"
)

// cliLocal runs a command that needs no server (admin restore).
func cliLocal(args ...string) (string, string, int) {
	var out, errb bytes.Buffer
	code := cli.Main(args, strings.NewReader(""), &out, &errb)
	return out.String(), errb.String(), code
}

// TestBackupRestoreRoundTrip backs a running server up with the CLI,
// restores the file into a new directory, starts a server there and reads
// back models, notebooks, lookups, events and the audit chain.
func TestBackupRestoreRoundTrip(t *testing.T) {
	ctx := context.Background()
	h := startStorage(t, t.TempDir())
	populate(t, h)
	file := filepath.Join(t.TempDir(), "backup.tar")
	out, e, code := cliRun(t, h, adminToken(t, h), "admin", "backup", "--file", file)
	if code != 0 {
		t.Fatalf("admin backup: %s", e)
	}
	if !strings.Contains(out, "Wrote the backup") {
		t.Errorf("admin backup said %q", out)
	}
	info, err := os.Stat(file)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Errorf("backup file mode = %v, want 0600 (it holds the server's keys)", info.Mode().Perm())
	}
	archive, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	names := strings.Join(tarEntries(t, archive), " ")
	for _, want := range []string{"files/secret.key", "files/" + server.BundleKeyFile, "files/pki/", "files/audit/", "dockyard.db", "blobs/sha256/"} {
		if !strings.Contains(names, want) {
			t.Errorf("backup lacks %s: %s", want, names)
		}
	}
	if ev := findEvent(auditEvents(t, h), access.AdminUser, "storage.backup", "success"); ev == nil {
		t.Error("no storage.backup audit event")
	}
	// Restoring over the directory of a running server is refused, --force or not.
	if _, e, code := cliLocal("admin", "restore", "--file", file, "--data", h.Data, "--force"); code == 0 || !strings.Contains(e, "running server") {
		t.Fatalf("restore --force over a running server's data dir = %d %q, want refused", code, e)
	}
	fingerprint := h.Srv.Fingerprint()
	h.Stop()

	// A non-empty directory is refused without --force.
	if _, e, code := cliLocal("admin", "restore", "--file", file, "--data", h.Data); code == 0 || !strings.Contains(e, "--force") {
		t.Fatalf("restore into the live data dir = %d %q, want refused naming --force", code, e)
	}
	// A backup cut short is refused and leaves nothing.
	short := filepath.Join(t.TempDir(), "short.tar")
	if err := os.WriteFile(short, archive[:len(archive)*2/3], 0o600); err != nil {
		t.Fatal(err)
	}
	target := filepath.Join(t.TempDir(), "restored")
	if _, e, code := cliLocal("admin", "restore", "--file", short, "--data", target); code == 0 || !strings.Contains(e, "not a complete Dockyard backup") {
		t.Fatalf("restore of a truncated backup = %d %q, want refused", code, e)
	}
	if _, err := os.Stat(target); !os.IsNotExist(err) {
		t.Fatalf("a failed restore left %s behind: %v", target, err)
	}
	// A blob changed inside the archive is refused.
	i := bytes.Index(archive, []byte("weights-1"))
	if i < 0 {
		t.Fatal("weights-1 not in the archive")
	}
	bad := append([]byte(nil), archive...)
	bad[i] ^= 1
	badFile := filepath.Join(t.TempDir(), "bad.tar")
	if err := os.WriteFile(badFile, bad, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, e, code := cliLocal("admin", "restore", "--file", badFile, "--data", target); code == 0 || !strings.Contains(e, "digest") {
		t.Fatalf("restore of a backup with a changed blob = %d %q, want refused naming the digest", code, e)
	}

	out, e, code = cliLocal("admin", "restore", "--file", file, "--data", target)
	if code != 0 {
		t.Fatalf("admin restore: %s", e)
	}
	if !strings.Contains(out, "dockyard server --data "+target) {
		t.Errorf("admin restore said %q", out)
	}

	// --force over a stopped server's directory moves what was there aside.
	out, e, code = cliLocal("admin", "restore", "--file", file, "--data", h.Data, "--force")
	if code != 0 || !strings.Contains(out, "was moved to") {
		t.Fatalf("restore --force: %d %q %q", code, out, e)
	}
	aside, _ := filepath.Glob(h.Data + ".replaced-*")
	if len(aside) != 1 {
		t.Fatalf("the replaced directory was not kept: %v", aside)
	}
	if _, err := os.Stat(filepath.Join(aside[0], server.DBFile)); err != nil {
		t.Fatalf("the replaced directory lost its database: %v", err)
	}

	h2 := startStorage(t, target)
	if h2.Srv.Fingerprint() != fingerprint {
		t.Errorf("restored server's CA fingerprint %s, want the original %s", h2.Srv.Fingerprint(), fingerprint)
	}
	alice := h2.Client("")
	res, err := alice.Login(ctx, "alice", servertest.UserPassword)
	if err != nil {
		t.Fatalf("alice logs in to the restored server: %v", err)
	}
	alice.SetToken(res.Token)
	var buf bytes.Buffer
	if ex, err := alice.ExportModel(ctx, "keep", &buf); err != nil || ex.Version != 2 {
		t.Fatalf("model keep on the restored server: %+v, %v", ex, err)
	}
	if _, err := alice.Model(ctx, "gone"); !errdefs.IsNotFound(err) {
		t.Errorf("deleted model on the restored server: %v", err)
	}
	if b, _, err := alice.NotebookContent(ctx, "nb", 2); err != nil || !strings.Contains(string(b), "'v': 2") {
		t.Fatalf("notebook on the restored server: %q, %v", b, err)
	}
	rc, err := alice.LookupContent(ctx, "iris.csv")
	if err != nil {
		t.Fatal(err)
	}
	if b, err := io.ReadAll(rc); err != nil || string(b) != "a,b\n1,2\n" {
		t.Fatalf("lookup on the restored server: %q, %v", b, err)
	}
	rc.Close()
	p, err := h2.Srv.Access().EffectivePrincipal(ctx, access.AdminUser, "")
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for ev, err := range h2.Srv.Index().Search(access.WithPrincipal(ctx, p), index.Query{Indexes: []string{"main"}, Terms: []string{"build=42"}}) {
		if err != nil {
			t.Fatal(err)
		}
		found = found || strings.Contains(ev.Raw, "deploy finished")
	}
	if !found {
		t.Error("event not found on the restored server")
	}
	v, err := h2.Admin.AuditVerify(ctx)
	if err != nil || !v.OK {
		t.Fatalf("audit verify on the restored server: %+v, %v", v, err)
	}
	// Nothing is missing: a collection finds every reference.
	if gc, err := h2.Admin.AdminGC(ctx, "0s"); err != nil || gc.MissingRefs != 0 {
		t.Fatalf("gc on the restored server: %+v, %v", gc, err)
	}
}

// copyDir copies the regular files under src to dst, keeping their modes.
func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		info, err := d.Info()
		if err != nil {
			return err
		}
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), info.Mode().Perm())
		}
		if !d.Type().IsRegular() {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, info.Mode().Perm())
	})
	if err != nil {
		t.Fatal(err)
	}
}

// corruptTable overwrites the root page of table in the database file
// (checkpointed first, so that no page lives only in the WAL).
func corruptTable(t *testing.T, path, table string) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	var root, size int64
	if err := db.QueryRow(`SELECT rootpage FROM sqlite_master WHERE name = ?`, table).Scan(&root); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow(`PRAGMA page_size`).Scan(&size); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt(bytes.Repeat([]byte{0xA5}, int(size)), (root-1)*size); err != nil {
		t.Fatal(err)
	}
}

// TestDamagedDatabaseRefusesToStart corrupts a page of a copy of a data
// dir: the server refuses to start on it, saying how to restore, unless
// told (dangerously) to skip the check; the original still starts.
func TestDamagedDatabaseRefusesToStart(t *testing.T) {
	ctx := context.Background()
	h := startStorage(t, t.TempDir())
	populate(t, h)
	h.Stop()
	damagedDir := t.TempDir()
	copyDir(t, h.Data, damagedDir)
	corruptTable(t, filepath.Join(damagedDir, server.DBFile), "lookups")
	if err := sqlite.Check(ctx, filepath.Join(h.Data, server.DBFile)); err != nil {
		t.Fatalf("the original database fails its check: %v", err)
	}

	cfg := servertest.Config(damagedDir)
	srv, err := server.New(ctx, cfg, telemetry.Discard(), server.Options{AdminPassword: servertest.AdminPassword})
	if err == nil {
		srv.Close()
		t.Fatal("the server started on a damaged database")
	}
	for _, want := range []string{"integrity check", "dockyard admin restore --file", "--dangerously-skip-integrity-check"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("refusal %q does not mention %q", err, want)
		}
	}

	cfg.Storage.SkipIntegrityCheck = true
	srv, err = server.New(ctx, cfg, telemetry.Discard(), server.Options{AdminPassword: servertest.AdminPassword})
	if err != nil {
		t.Fatalf("start with the check skipped: %v", err)
	}
	srv.Close()

	// The backup of a healthy server restores; the damaged copy is not
	// needed for that, and the original starts as before.
	h2 := startStorage(t, h.Data)
	if _, err := h2.Admin.AuditVerify(ctx); err != nil {
		t.Fatal(err)
	}
}
