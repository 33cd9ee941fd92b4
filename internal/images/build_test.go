package images

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dockyard/dockyard/internal/errdefs"
)

// fakeImporter stands in for the engine: it keeps the tar it is given.
type fakeImporter struct {
	tar     []byte
	ref     string
	changes []string
}

func (f *fakeImporter) ImportImage(_ context.Context, r io.Reader, ref string, changes []string) (string, error) {
	b, err := io.ReadAll(r)
	f.tar, f.ref, f.changes = b, ref, changes
	return "sha256:" + strings.Repeat("1", 64), err
}

func tarOf(t *testing.T, files map[string]string) []byte {
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	for name, body := range files {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		tw.Write([]byte(body))
	}
	if err := tw.WriteHeader(&tar.Header{Name: "./bin/sh", Linkname: "dash", Typeflag: tar.TypeSymlink}); err != nil {
		t.Fatal(err)
	}
	tw.Close()
	return b.Bytes()
}

func names(t *testing.T, b []byte) map[string]*tar.Header {
	out := map[string]*tar.Header{}
	tr := tar.NewReader(bytes.NewReader(b))
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out[h.Name] = h
	}
}

// staticAgent is a statically linked executable for this machine that
// stands in for the agent: a tiny Go program built with CGO_ENABLED=0.
func staticAgent(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte("package main\n\nfunc main() {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module agent\n\ngo 1.21\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("go", "build", "-o", "agent", ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=-mod=mod", "GOTOOLCHAIN=local")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building a static stand-in for the agent: %v\n%s", err, out)
	}
	return filepath.Join(dir, "agent")
}

func TestBuildFromCachedRootFS(t *testing.T) {
	agent := staticAgent(t)
	cache := t.TempDir()
	pkgs := []string{"python3", "python3-pandas"}
	key := RootFSKey(DefaultSuite, DefaultMirror, "amd64", pkgs)
	if key != RootFSKey(DefaultSuite, DefaultMirror, "amd64", []string{"python3-pandas", "python3"}) {
		t.Fatal("the cache key depends on the packages' order")
	}
	if key == RootFSKey(DefaultSuite, DefaultMirror, "amd64", append(pkgs, "python3-numpy")) {
		t.Fatal("the cache key does not depend on the packages")
	}
	// A cached root file system with a stale /dockyard.
	rootfs := filepath.Join(cache, "rootfs-"+DefaultSuite+"-"+RootFSKey(DefaultSuite, DefaultMirror, goarch(), pkgs)+".tar")
	if err := os.WriteFile(rootfs, tarOf(t, map[string]string{"./etc/os-release": "debian", "./dockyard": "old"}), 0o644); err != nil {
		t.Fatal(err)
	}
	// Other package lists' root file systems: one unused for 40 days (it
	// goes), one used yesterday (it stays).
	stale, recent := filepath.Join(cache, "rootfs-bookworm-stale.tar"), filepath.Join(cache, "rootfs-bookworm-recent.tar")
	for f, age := range map[string]time.Duration{stale: 40 * 24 * time.Hour, recent: 24 * time.Hour, rootfs: 60 * 24 * time.Hour} {
		if f != rootfs {
			if err := os.WriteFile(f, []byte("x"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		at := time.Now().Add(-age)
		if err := os.Chtimes(f, at, at); err != nil {
			t.Fatal(err)
		}
	}
	var progress bytes.Buffer
	imp := &fakeImporter{}
	res, err := Build(context.Background(), BuildOptions{Name: "golden-cpu", Ref: "dockyard/golden-cpu:latest", Packages: pkgs, Agent: agent,
		CacheDir: cache, Progress: &progress, Importer: imp, euid: func() int { return 1000 }})
	if err != nil {
		t.Fatalf("Build from the cache (not as root): %v\n%s", err, progress.String())
	}
	if !res.Cached || res.ID == "" || imp.ref != "dockyard/golden-cpu:latest" {
		t.Fatalf("result %+v, import of %q", res, imp.ref)
	}
	got := names(t, imp.tar)
	if got["./etc/os-release"] == nil || got["./bin/sh"] == nil || got["./bin/sh"].Linkname != "dash" {
		t.Fatalf("the root file system's entries are not all imported: %v", got)
	}
	if h := got["./dockyard"]; h == nil || h.Mode != 0o755 || h.Size <= 3 {
		t.Fatalf("the agent in the image = %+v, want the static agent, mode 0755", h)
	}
	joined := strings.Join(imp.changes, "\n")
	for _, want := range []string{`ENTRYPOINT ["/dockyard"]`, `dockyard.image="golden-cpu"`, `dockyard.image.packages="python3,python3-pandas"`, res.AgentSum} {
		if !strings.Contains(joined, want) {
			t.Errorf("changes %q lack %s", joined, want)
		}
	}
	if !strings.Contains(progress.String(), "==> using the cached root file system") {
		t.Errorf("progress: %s", progress.String())
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) || !strings.Contains(progress.String(), "removed the cached root file system "+stale) {
		t.Errorf("the root file system unused for 40 days is kept (%v):\n%s", err, progress.String())
	}
	if _, err := os.Stat(recent); err != nil {
		t.Errorf("the root file system used yesterday is gone: %v", err)
	}
	if fi, err := os.Stat(rootfs); err != nil || time.Since(fi.ModTime()) > time.Hour {
		t.Errorf("the root file system this build used is not marked used: %v %v", fi.ModTime(), err)
	}
}

func TestBuildSaysWhatIsMissing(t *testing.T) {
	ctx := context.Background()
	agent := staticAgent(t)
	imp := &fakeImporter{}
	base := BuildOptions{Name: "golden-cpu", Ref: "dockyard/golden-cpu:latest", Agent: agent, CacheDir: t.TempDir(), Importer: imp}

	o := base
	o.euid = func() int { return 1000 }
	if _, err := Build(ctx, o); !errdefs.IsPermissionDenied(err) || !strings.Contains(err.Error(), "need root") {
		t.Errorf("not root, nothing cached: %v", err)
	}
	o = base
	o.Agent = "/bin/sh"
	if _, err := CheckStaticAgent("/bin/sh"); err == nil {
		t.Skip("/bin/sh is static here")
	}
	if _, err := Build(ctx, o); !errdefs.IsInvalid(err) || !strings.Contains(err.Error(), "CGO_ENABLED=0") {
		t.Errorf("a dynamic agent: %v", err)
	}
	o = base
	o.Agent = filepath.Join(t.TempDir(), "none")
	if _, err := Build(ctx, o); !errdefs.IsInvalid(err) {
		t.Errorf("a missing agent: %v", err)
	}
	o = base
	o.Ref = "registry.example.com/golden-cpu:1"
	if _, err := Build(ctx, o); !errdefs.IsInvalid(err) || !strings.Contains(err.Error(), "not pushed") {
		t.Errorf("a registry reference: %v", err)
	}
	o = base
	o.Packages = []string{"python3", "--allow-unauthenticated"}
	if _, err := Build(ctx, o); !errdefs.IsInvalid(err) {
		t.Errorf("an option for a package: %v", err)
	}
	o = base
	o.Importer = nil
	if _, err := Build(ctx, o); !errdefs.IsUnavailable(err) {
		t.Errorf("no engine: %v", err)
	}
}
