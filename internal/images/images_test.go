package images

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/images/imagestest"
	"github.com/dockyard/dockyard/internal/runtime"
	"github.com/dockyard/dockyard/internal/store"
	"github.com/dockyard/dockyard/internal/store/sqlite"
)

type env struct {
	cat        *Catalogue
	st         *sqlite.DB
	exe        string
	containers []store.Container
	engine     fakeEngine
}

type fakeEngine map[string]string

func (f fakeEngine) ImageDigest(_ context.Context, image string) (string, error) {
	d, ok := f[image]
	if !ok {
		return "", errdefs.NotFound("no such image")
	}
	return d, nil
}

func newEnv(t *testing.T) *env {
	t.Helper()
	dir := t.TempDir()
	st, err := sqlite.Open(context.Background(), filepath.Join(dir, "db.sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e := &env{st: st, exe: filepath.Join(dir, "dockyard"), engine: fakeEngine{}}
	writeExe(t, e.exe, "v1")
	e.cat = New(Options{Store: st, Scans: st, Settings: st, Signing: st, DefaultImage: ProcessImage, ProcessExecutable: e.exe,
		Containers: func(context.Context) ([]store.Container, error) { return e.containers, nil },
		Engines:    map[string]runtime.ImageDigester{RuntimeDocker: e.engine}})
	return e
}

func writeExe(t *testing.T, path, body string) string {
	t.Helper()
	if err := os.WriteFile(path, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(body))
	return "sha256:" + hex.EncodeToString(sum[:])
}

func (e *env) add(t *testing.T, req AddRequest) (Entry, error) {
	t.Helper()
	ent, err := e.cat.NewEntry(context.Background(), "admin", req)
	if err != nil {
		return ent, err
	}
	return ent, e.cat.InTx(context.Background(), func(ctx context.Context) error { return e.cat.Create(ctx, ent) })
}

func TestRemotePinAndRetag(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	reg := imagestest.Plain(t)
	host := reg.Host
	first := reg.Push(t, "golden-cpu:5.2.0")
	ent, err := e.add(t, AddRequest{Name: "golden-cpu", Ref: host + "/golden-cpu:5.2.0", Title: "Golden CPU"})
	if err != nil {
		t.Fatal(err)
	}
	if ent.Digest != first || ent.RunRef != host+"/golden-cpu@"+first || ent.Source != SourceRegistry || ent.Runtime != RuntimeDocker {
		t.Fatalf("entry = %+v, want digest %s", ent, first)
	}
	// The tag moves: what runs does not, until an administrator re-pins.
	second := reg.Push(t, "golden-cpu:5.2.0")
	if second == first {
		t.Fatal("two random images with one digest")
	}
	p, err := e.cat.Pin(ctx, "golden-cpu")
	if err != nil || p.Ref != host+"/golden-cpu@"+first || p.Digest != first || p.Runtime != RuntimeDocker {
		t.Fatalf("Pin after the tag moved = %+v, %v; want the first digest %s", p, err, first)
	}
	before, after, err := e.cat.Repin(ctx, "root", "golden-cpu", UpdateRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if before.Digest != first || after.Digest != second || after.UpdatedBy != "root" || after.CreatedBy != "admin" || after.Title != "Golden CPU" {
		t.Fatalf("Repin = %+v -> %+v", before, after)
	}
	if err := e.cat.Save(ctx, after); err != nil {
		t.Fatal(err)
	}
	if p, _ := e.cat.Pin(ctx, "golden-cpu"); p.Ref != host+"/golden-cpu@"+second {
		t.Fatalf("Pin after re-pin = %+v, want %s", p, second)
	}
	if d := e.cat.Digest(RuntimeDocker, "golden-cpu"); d != second {
		t.Errorf("Digest = %q, want %s", d, second)
	}
	// A reference by digest pins that digest.
	ent, err = e.add(t, AddRequest{Name: "old-cpu", Ref: host + "/golden-cpu@" + first})
	if err != nil || ent.Digest != first {
		t.Fatalf("add by digest = %+v, %v", ent, err)
	}
	// A missing tag or repository is not found, saying so.
	if _, err := e.add(t, AddRequest{Name: "x", Ref: host + "/golden-cpu:nope"}); !errdefs.IsNotFound(err) || !strings.Contains(err.Error(), "has no image") {
		t.Errorf("missing tag: %v", err)
	}
	// An unreachable registry is unavailable, saying which.
	if _, err := e.add(t, AddRequest{Name: "x", Ref: "127.0.0.1:1/golden-cpu:1"}); !errdefs.IsUnavailable(err) || !strings.Contains(err.Error(), "127.0.0.1:1") {
		t.Errorf("unreachable registry: %v", err)
	}
}

func TestLocalPin(t *testing.T) {
	e := newEnv(t)
	e.engine["dockyard-agent:ci"] = "sha256:1111"
	ent, err := e.add(t, AddRequest{Name: "golden-gpu", Ref: "dockyard-agent:ci", GPU: true})
	if err != nil {
		t.Fatal(err)
	}
	if ent.Digest != "sha256:1111" || ent.RunRef != "sha256:1111" || ent.Source != SourceEngine || !ent.GPU {
		t.Fatalf("entry = %+v", ent)
	}
	// The local tag moves: the entry still runs the pinned image id.
	e.engine["dockyard-agent:ci"] = "sha256:2222"
	if p, err := e.cat.Pin(context.Background(), "golden-gpu"); err != nil || p.Ref != "sha256:1111" || !p.GPU {
		t.Fatalf("Pin = %+v, %v", p, err)
	}
	if _, err := e.add(t, AddRequest{Name: "gone", Ref: "not-here:1"}); !errdefs.IsNotFound(err) || !strings.Contains(err.Error(), "not on the Docker host") {
		t.Errorf("missing local image: %v", err)
	}
	// Without an engine a local reference cannot be resolved.
	noEngine := New(Options{Store: e.st, ProcessExecutable: e.exe})
	if _, err := noEngine.NewEntry(context.Background(), "admin", AddRequest{Name: "y", Ref: "dockyard-agent:ci"}); !errdefs.IsInvalid(err) || !strings.Contains(err.Error(), "no Docker runtime") {
		t.Errorf("local reference without an engine: %v", err)
	}
}

func TestBadInput(t *testing.T) {
	e := newEnv(t)
	e.engine["img:1"] = "sha256:aa"
	if _, err := e.add(t, AddRequest{Name: "dup", Ref: "img:1"}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		req  AddRequest
		kind func(error) bool
		want string
	}{
		{AddRequest{Name: "", Ref: "img:1"}, errdefs.IsInvalid, "image name"},
		{AddRequest{Name: "reg.example.com/x:1", Ref: "img:1"}, errdefs.IsInvalid, "not a reference"},
		{AddRequest{Name: "-x", Ref: "img:1"}, errdefs.IsInvalid, "starting with a letter"},
		{AddRequest{Name: "a//b", Ref: "img:1"}, errdefs.IsInvalid, "image name"},
		{AddRequest{Name: "ok"}, errdefs.IsInvalid, "needs --ref"},
		{AddRequest{Name: "ok", Ref: "img:1", Runtime: "kubernetes"}, errdefs.IsInvalid, "a registry the cluster pulls from"},
		{AddRequest{Name: "ok", Ref: "img:1", Runtime: "lxc"}, errdefs.IsInvalid, "use docker, kubernetes or process"},
		{AddRequest{Name: "ok", Ref: "img:1", Runtime: "process"}, errdefs.IsInvalid, "leave out --ref"},
		{AddRequest{Name: "ok", Ref: "reg.example.com/UPPER:1"}, errdefs.IsInvalid, "HOST[:PORT]/REPO"},
		{AddRequest{Name: ProcessImage}, errdefs.IsConflict, "built in"},
		{AddRequest{Name: "dup", Ref: "img:1"}, errdefs.IsConflict, "images update dup"},
	} {
		_, err := e.add(t, tc.req)
		if err == nil || !tc.kind(err) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("add %+v = %v, want an error saying %q", tc.req, err, tc.want)
		}
	}
}

func TestProcessEntries(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	v1 := writeExe(t, e.exe, "v1")
	p, err := e.cat.Pin(ctx, ProcessImage)
	if err != nil || p.Runtime != RuntimeProcess || p.Digest != v1 || p.Ref != ProcessImage {
		t.Fatalf("built-in Pin = %+v, %v", p, err)
	}
	ent, err := e.add(t, AddRequest{Name: "cpu-local", Runtime: RuntimeProcess, Title: "Local"})
	if err != nil || ent.Digest != v1 || ent.Source != SourceExecutable {
		t.Fatalf("process entry = %+v, %v", ent, err)
	}
	e.containers = []store.Container{{Name: "a", Image: ProcessImage}, {Name: "b", Image: ProcessImage}, {Name: "c", Scope: "bob", Image: "cpu-local"}}
	list, err := e.cat.List(ctx)
	if err != nil || len(list) != 2 {
		t.Fatalf("List = %+v, %v", list, err)
	}
	if b := list[0]; b.Name != ProcessImage || !b.Builtin || !b.Default || b.Containers != 2 || b.Digest != v1 {
		t.Errorf("built-in entry = %+v", b)
	}
	if c := list[1]; c.Name != "cpu-local" || c.Builtin || c.Default || c.Containers != 1 {
		t.Errorf("added entry = %+v", c)
	}
	// A new executable: the added entry refuses until re-pinned (the
	// built-in one follows the executable).
	fresh := New(Options{Store: e.st, DefaultImage: ProcessImage, ProcessExecutable: e.exe})
	v2 := writeExe(t, e.exe, "v2")
	if _, err := fresh.Pin(ctx, "cpu-local"); !errdefs.IsConflict(err) || !strings.Contains(err.Error(), "images update cpu-local") {
		t.Errorf("Pin of a stale process entry = %v", err)
	}
	if p, err := fresh.Pin(ctx, ProcessImage); err != nil || p.Digest != v2 {
		t.Errorf("built-in Pin after an upgrade = %+v, %v", p, err)
	}
	if _, after, err := fresh.Repin(ctx, "admin", "cpu-local", UpdateRequest{}); err != nil || after.Digest != v2 {
		t.Errorf("Repin = %+v, %v", after, err)
	}
	if _, _, err := fresh.Repin(ctx, "admin", ProcessImage, UpdateRequest{}); !errdefs.IsInvalid(err) {
		t.Errorf("Repin of the built-in entry = %v", err)
	}
	if _, err := fresh.Pin(ctx, "nope"); !errdefs.IsNotFound(err) || !strings.Contains(err.Error(), "dockyard images add nope") {
		t.Errorf("Pin of a missing entry = %v", err)
	}
	// A missing executable leaves the built-in entry without a digest.
	gone := New(Options{DefaultImage: ProcessImage, ProcessExecutable: "/nonexistent/agent"})
	if _, err := gone.Pin(ctx, ProcessImage); err == nil {
		t.Error("Pin without the executable: no error")
	}
	if l, err := gone.List(ctx); err != nil || len(l) != 1 || l[0].Digest != "" {
		t.Errorf("List without the executable = %+v, %v", l, err)
	}
}

func TestRemove(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	e.engine["img:1"] = "sha256:aa"
	for _, n := range []string{"used", "free"} {
		if _, err := e.add(t, AddRequest{Name: n, Ref: "img:1"}); err != nil {
			t.Fatal(err)
		}
	}
	e.containers = []store.Container{{Name: "web", Image: "used"}, {Name: "__dev__", Scope: "ann", Image: "used"}}
	e.cat.o.DefaultImage = "free"
	for _, tc := range []struct {
		name string
		kind func(error) bool
		want string
	}{
		{ProcessImage, errdefs.IsInvalid, "built in"},
		{"free", errdefs.IsConflict, "containers.default_image"},
		{"used", errdefs.IsConflict, "2 containers (web, ann/__dev__)"},
		{"nope", errdefs.IsNotFound, "not in the catalogue"},
	} {
		if _, err := e.cat.Remove(ctx, tc.name); err == nil || !tc.kind(err) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Remove(%s) = %v, want %q", tc.name, err, tc.want)
		}
	}
	e.cat.o.DefaultImage = ProcessImage
	if ent, err := e.cat.Remove(ctx, "free"); err != nil || ent.Name != "free" {
		t.Fatalf("Remove = %+v, %v", ent, err)
	}
	if _, err := e.cat.Get(ctx, "free"); !errdefs.IsNotFound(err) {
		t.Errorf("Get after Remove = %v", err)
	}
}

func FuzzParseRemote(f *testing.F) {
	for _, s := range []string{"registry.example.com/golden-cpu:5.2.0", "127.0.0.1:5000/a/b@sha256:" + strings.Repeat("a", 64),
		"localhost/x", "golden-cpu", "a.b/UPPER", "a.b/x:", "a.b/x@sha256:zz", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, ref string) {
		r, err := ParseRemote(ref)
		if err != nil {
			if !errdefs.IsInvalid(err) {
				t.Fatalf("ParseRemote(%q): error of another kind: %v", ref, err)
			}
			return
		}
		if !IsRemote(ref) {
			t.Fatalf("ParseRemote(%q) accepted a reference without a registry host", ref)
		}
		// What parses names its repository, which parses again.
		if _, err := ParseRemote(r.Context().Name() + ":t"); err != nil {
			t.Fatalf("repository %q of %q does not parse: %v", r.Context().Name(), ref, err)
		}
	})
}
