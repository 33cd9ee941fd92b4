package containers_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dockyard/dockyard/internal/access"
	"github.com/dockyard/dockyard/internal/audit"
	blobfs "github.com/dockyard/dockyard/internal/blob/fs"
	"github.com/dockyard/dockyard/internal/containers"
	"github.com/dockyard/dockyard/internal/notebooks"
	"github.com/dockyard/dockyard/internal/runtime"
	"github.com/dockyard/dockyard/internal/runtime/fake"
	"github.com/dockyard/dockyard/internal/secrets"
	"github.com/dockyard/dockyard/internal/store/sqlite"
)

type env struct {
	svc   *containers.Service
	rt    *fake.Runtime
	db    *sqlite.DB
	audit *audit.Memory
	nb    *notebooks.Service
	opts  containers.Options
}

func newEnv(t *testing.T) *env {
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
	box, err := secrets.New(secrets.GenerateKey())
	if err != nil {
		t.Fatal(err)
	}
	e := &env{rt: fake.New(), db: db, audit: &audit.Memory{}, nb: notebooks.New(db, bs, nil)}
	e.opts = containers.Options{
		Store: db, Runtimes: map[string]runtime.Runtime{"process": e.rt}, DefaultRuntime: "process",
		DefaultImage: "dockyard/process", ServerID: "srv1", Secrets: box, Notebooks: e.nb, Audit: e.audit,
		StopGrace: time.Second,
	}
	e.svc = e.newService(t)
	return e
}

func (e *env) newService(t *testing.T) *containers.Service {
	t.Helper()
	s, err := containers.New(e.opts)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// actions returns the audit actions recorded with their results and users.
func (e *env) actions() []string {
	var out []string
	for _, ev := range e.audit.Events() {
		out = append(out, ev.Action+" "+ev.Result+" "+ev.User+" "+ev.Object)
	}
	return out
}

func (e *env) hasAction(want string) bool {
	for _, a := range e.actions() {
		if strings.HasPrefix(a, want) {
			return true
		}
	}
	return false
}

// principal builds a principal with the capabilities of the built-in
// roles it names.
func principal(user string, roles ...string) *access.Principal {
	caps := access.CapSet{}
	all := access.BuiltinRoles()
	var add func(string)
	add = func(r string) {
		for _, br := range all {
			if br.Name == r {
				for _, c := range br.Capabilities {
					caps[access.Capability(c)] = true
				}
				for _, in := range br.Inherit {
					add(in)
				}
			}
		}
	}
	for _, r := range roles {
		add(r)
	}
	return &access.Principal{User: user, Roles: roles, Caps: caps, App: "search"}
}
