package models

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dockyard/dockyard/internal/access"
	"github.com/dockyard/dockyard/internal/audit"
	blobfs "github.com/dockyard/dockyard/internal/blob/fs"
	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/store/sqlite"
)

// testEnv is a registry over a real SQLite store and a real filesystem blob
// store in temporary directories.
type testEnv struct {
	reg   *Registry
	db    *sqlite.DB
	blobs *blobfs.Store
	audit *audit.Memory
}

// tlogWriter sends registry logs to t.Log.
type tlogWriter struct{ t *testing.T }

func (w tlogWriter) Write(b []byte) (int, error) {
	w.t.Helper()
	w.t.Log(string(bytes.TrimRight(b, "\n")))
	return len(b), nil
}

func newEnv(t *testing.T, opts Options) *testEnv {
	t.Helper()
	dir := t.TempDir()
	db, err := sqlite.Open(context.Background(), filepath.Join(dir, "dockyard.db"))
	if err != nil {
		t.Fatalf("sqlite.Open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	bs, err := blobfs.New(filepath.Join(dir, "blobs"))
	if err != nil {
		t.Fatalf("blobfs.New: %v", err)
	}
	if opts.Now == nil {
		var mu sync.Mutex
		clock := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
		opts.Now = func() time.Time {
			mu.Lock()
			defer mu.Unlock()
			clock = clock.Add(time.Second)
			return clock
		}
	}
	rec := &audit.Memory{}
	log := slog.New(slog.NewTextHandler(tlogWriter{t}, nil))
	return &testEnv{reg: New(db, bs, rec, opts, log), db: db, blobs: bs, audit: rec}
}

// Principals used across the tests. sales, hr and ops are apps, and every
// principal may read and write each of them.
var (
	members = access.MemberOf("sales", "hr", "ops")

	alice  = &access.Principal{User: "alice", Roles: []string{"user"}, App: "sales", Apps: members}
	bob    = &access.Principal{User: "bob", Roles: []string{"editors", "user"}, App: "sales", Apps: members}
	dave   = &access.Principal{User: "dave", Roles: []string{"user"}, App: "sales", Apps: members}
	carol  = &access.Principal{User: "carol", Roles: []string{"editors", "user"}, App: "hr", Apps: members}
	erin   = &access.Principal{User: "erin", Roles: []string{"user"}, App: "ops", Apps: members}
	admin  = &access.Principal{User: "admin", Roles: []string{"admin"}, App: "sales", Caps: access.CapSet{access.CapAdminAllObjects: true}}
	nobody = context.Background()
)

func as(p *access.Principal) context.Context {
	return access.WithPrincipal(context.Background(), p)
}

func ref(t *testing.T, s string) Ref {
	t.Helper()
	r, err := ParseRef(s)
	if err != nil {
		t.Fatalf("ParseRef(%q): %v", s, err)
	}
	return r
}

// register adds a version with one file whose content is content.
func (e *testEnv) register(t *testing.T, p *access.Principal, model, algo, content string) Version {
	t.Helper()
	v, err := e.reg.RegisterVersion(as(p), ref(t, model), VersionInput{
		Algo:  algo,
		Files: []File{{Path: "model.bin", Reader: bytes.NewReader([]byte(content))}},
	})
	if err != nil {
		t.Fatalf("%s registers into %s: %v", p.User, model, err)
	}
	return v
}

// errKind names the kind of err for table comparisons.
func errKind(err error) string {
	switch {
	case err == nil:
		return "ok"
	case errdefs.IsNotFound(err):
		return "notfound"
	case errdefs.IsPermissionDenied(err):
		return "denied"
	case errdefs.IsInvalid(err):
		return "invalid"
	case errdefs.IsConflict(err):
		return "conflict"
	case errdefs.IsUnauthenticated(err):
		return "unauthenticated"
	}
	return fmt.Sprintf("other(%v)", err)
}

func mustKind(t *testing.T, what string, err error, want string) {
	t.Helper()
	if got := errKind(err); got != want {
		t.Fatalf("%s: got %s (%v), want %s", what, got, err, want)
	}
}

func stringReader(s string) *strings.Reader { return strings.NewReader(s) }
