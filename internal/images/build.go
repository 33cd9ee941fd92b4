package images

import (
	"archive/tar"
	"bufio"
	"context"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	goruntime "runtime"
	"sort"
	"strings"
	"time"

	"github.com/dockyard/dockyard/internal/errdefs"
)

// GoldenPackages are the Debian packages of the golden images (golden-cpu
// and golden-gpu): Python with pandas, NumPy and scikit-learn for fits,
// and Jupyter's classic Notebook, which development containers run beside
// the agent. CUDA is not in Debian main: a GPU image for real GPUs adds
// the NVIDIA libraries an operator obtains (docs/images.md).
var GoldenPackages = []string{
	"python3", "python3-pandas", "python3-numpy", "python3-sklearn",
	"jupyter-notebook", "python3-notebook",
}

// Defaults of a build.
const (
	DefaultSuite  = "bookworm"
	DefaultMirror = "http://deb.debian.org/debian"
	// AgentPath is where a built image holds the static dockyard agent
	// (the docker runtime's entrypoint).
	AgentPath = "/dockyard"
	// buildVersion changes the rootfs cache key when what a build puts in
	// the rootfs changes.
	buildVersion = "1"
)

var suiteRE = regexp.MustCompile(`^[a-z][a-z0-9-]{1,31}$`)

// Labels a built image carries.
const (
	LabelBuiltImage    = "dockyard.image"          // the catalogue entry it was built for
	LabelBuiltPackages = "dockyard.image.packages" // the Debian packages, comma-separated
	LabelBuiltSuite    = "dockyard.image.suite"
	LabelBuiltAgent    = "dockyard.image.agent" // the agent's SHA-256
)

// Importer makes an image of a root file system tar in the container
// engine, applying changes (Dockerfile instructions: ENTRYPOINT, LABEL),
// tags it ref and returns its image id.
type Importer interface {
	ImportImage(ctx context.Context, rootfs io.Reader, ref string, changes []string) (id string, err error)
}

// BuildOptions configure Build.
type BuildOptions struct {
	// Name is the catalogue entry the image is built for (a label).
	Name string
	// Ref tags the image in the engine.
	Ref string
	// Suite and Mirror are Debian's (DefaultSuite, DefaultMirror when
	// empty); Packages are installed on the minimal base
	// (GoldenPackages when nil).
	Suite    string
	Mirror   string
	Packages []string
	// Agent is the static dockyard executable copied in as AgentPath.
	Agent string
	// CacheDir keeps root file systems by a key of the suite, mirror,
	// architecture and packages, so that a second build skips debootstrap
	// and apt; "" keeps none. Refresh builds again and replaces the
	// cached one.
	CacheDir string
	Refresh  bool
	// Progress receives the steps, and the tools' output, line by line.
	Progress io.Writer
	Importer Importer

	// Test hooks: how commands run and whether this process is root.
	command func(ctx context.Context, name string, args ...string) *exec.Cmd
	euid    func() int
}

// BuildResult is what Build made.
type BuildResult struct {
	ID       string // the engine's image id
	Ref      string
	Cached   bool   // the root file system came from the cache
	RootFS   string // the cached root file system tar ("" without a cache)
	AgentSum string // sha256:... of the agent
}

// Build makes a golden image without any registry: a minimal Debian root
// file system (debootstrap), the packages installed in it with apt in a
// chroot, the static dockyard agent at AgentPath, imported into the engine
// as one layer with its entrypoint and labels. It needs root and Debian's
// debootstrap on this machine, and Debian's mirror; each missing one is
// an error that says what to do.
func Build(ctx context.Context, o BuildOptions) (BuildResult, error) {
	if o.Suite == "" {
		o.Suite = DefaultSuite
	}
	if o.Mirror == "" {
		o.Mirror = DefaultMirror
	}
	if o.Packages == nil {
		o.Packages = GoldenPackages
	}
	if o.Progress == nil {
		o.Progress = io.Discard
	}
	if o.command == nil {
		o.command = exec.CommandContext
	}
	if o.euid == nil {
		o.euid = os.Geteuid
	}
	if err := CheckName(o.Name); err != nil {
		return BuildResult{}, err
	}
	if o.Ref == "" || IsRemote(o.Ref) {
		return BuildResult{}, errdefs.Invalidf("image %q: the built image is tagged in the engine, not pushed: give a local reference such as dockyard/%s:latest, not %q", o.Name, o.Name, o.Ref)
	}
	if o.Importer == nil {
		return BuildResult{}, errdefs.Unavailable("images build needs the Docker Engine to import the image into")
	}
	if !suiteRE.MatchString(o.Suite) {
		return BuildResult{}, errdefs.Invalidf("--suite %q is not a Debian release name (bookworm, trixie)", o.Suite)
	}
	if !strings.HasPrefix(o.Mirror, "http://") && !strings.HasPrefix(o.Mirror, "https://") && !strings.HasPrefix(o.Mirror, "file:///") {
		return BuildResult{}, errdefs.Invalidf("--mirror %q: give the mirror's URL, e.g. %s", o.Mirror, DefaultMirror)
	}
	for _, p := range o.Packages {
		if p == "" || strings.ContainsAny(p, " \t\n,/") || strings.HasPrefix(p, "-") {
			return BuildResult{}, errdefs.Invalidf("package %q is not a Debian package name", p)
		}
	}
	step := func(format string, args ...any) { fmt.Fprintf(o.Progress, "==> "+format+"\n", args...) }

	step("checking the agent %s", o.Agent)
	sum, err := CheckStaticAgent(o.Agent)
	if err != nil {
		return BuildResult{}, err
	}
	res := BuildResult{Ref: o.Ref, AgentSum: sum}

	key := RootFSKey(o.Suite, o.Mirror, goarch(), o.Packages)
	var rootfsTar string
	if o.CacheDir != "" {
		if err := os.MkdirAll(o.CacheDir, 0o700); err != nil {
			return BuildResult{}, fmt.Errorf("the rootfs cache %s: %w", o.CacheDir, err)
		}
		rootfsTar = filepath.Join(o.CacheDir, "rootfs-"+o.Suite+"-"+key+".tar")
		res.RootFS = rootfsTar
		if _, err := os.Stat(rootfsTar); err == nil && !o.Refresh {
			res.Cached = true
			step("using the cached root file system %s (--refresh builds it again)", rootfsTar)
		}
	}
	if !res.Cached {
		if err := o.checkCanBootstrap(); err != nil {
			return BuildResult{}, err
		}
		tmpTar, cleanup, err := o.bootstrap(ctx, step, rootfsTar)
		if err != nil {
			return BuildResult{}, err
		}
		defer cleanup()
		if rootfsTar == "" {
			rootfsTar = tmpTar
		}
	}

	step("importing the image into the engine as %s", o.Ref)
	f, err := os.Open(rootfsTar)
	if err != nil {
		return BuildResult{}, fmt.Errorf("the root file system %s: %w", rootfsTar, err)
	}
	defer f.Close()
	agent, err := os.Open(o.Agent)
	if err != nil {
		return BuildResult{}, fmt.Errorf("the agent %s: %w", o.Agent, err)
	}
	defer agent.Close()
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(AppendAgent(pw, f, agent)) }()
	changes := []string{
		fmt.Sprintf(`ENTRYPOINT [%q]`, AgentPath),
		fmt.Sprintf(`LABEL %s=%q %s=%q %s=%q %s=%q`, LabelBuiltImage, o.Name, LabelBuiltPackages, strings.Join(o.Packages, ","),
			LabelBuiltSuite, o.Suite, LabelBuiltAgent, sum),
	}
	id, err := o.Importer.ImportImage(ctx, pr, o.Ref, changes)
	pr.CloseWithError(errors.New("import ended"))
	if err != nil {
		return BuildResult{}, fmt.Errorf("importing image %s into the engine: %w", o.Ref, err)
	}
	res.ID = id
	step("built %s (%s)", o.Ref, id)
	if res.RootFS != "" {
		pruneRootFSCache(o.CacheDir, res.RootFS, time.Now(), step)
	}
	return res, nil
}

// RootFSCacheKeep is how long a cached root file system no build has used
// stays in the cache.
const RootFSCacheKeep = 30 * 24 * time.Hour

// pruneRootFSCache marks used, the cached root file system this build
// used, and removes the others (rootfs-*.tar) that no build has used for
// RootFSCacheKeep, saying so. A file it cannot remove is left, said too.
func pruneRootFSCache(dir, used string, now time.Time, step func(string, ...any)) {
	if err := os.Chtimes(used, now, now); err != nil {
		step("could not mark %s as used: %v", used, err)
	}
	old, _ := filepath.Glob(filepath.Join(dir, "rootfs-*.tar"))
	for _, f := range old {
		fi, err := os.Stat(f)
		if err != nil || f == used || now.Sub(fi.ModTime()) < RootFSCacheKeep {
			continue
		}
		if err := os.Remove(f); err != nil {
			step("could not remove the unused cached root file system %s: %v", f, err)
			continue
		}
		step("removed the cached root file system %s, unused since %s (%d MB)", f, fi.ModTime().UTC().Format("2006-01-02"), fi.Size()>>20)
	}
}

// checkCanBootstrap says what is missing to run debootstrap and chroot.
func (o *BuildOptions) checkCanBootstrap() error {
	if o.euid() != 0 {
		return errdefs.PermissionDenied("images build runs debootstrap and chroot, which need root: run it as root on the Docker host (sudo dockyard images build ...), or give it a cached root file system with --cache-dir")
	}
	for _, tool := range []string{"debootstrap", "chroot", "tar"} {
		if _, err := exec.LookPath(tool); err != nil {
			pkg := map[string]string{"debootstrap": "debootstrap", "chroot": "coreutils", "tar": "tar"}[tool]
			return errdefs.Unavailablef("images build needs %s on this machine (%v): install Debian's %s package (apt-get install %s)", tool, err, pkg, pkg)
		}
	}
	return nil
}

// bootstrap makes the root file system with debootstrap and apt in a
// temporary directory and writes it as a tar to dest (atomically), or to
// a temporary file when dest is "". It returns the tar and a cleanup.
func (o *BuildOptions) bootstrap(ctx context.Context, step func(string, ...any), dest string) (string, func(), error) {
	parent := o.CacheDir
	if parent == "" {
		parent = os.TempDir()
	}
	dir, err := os.MkdirTemp(parent, "rootfs-")
	if err != nil {
		return "", func() {}, fmt.Errorf("a directory for the root file system: %w", err)
	}
	cleanup := func() { os.RemoveAll(dir) }
	root := filepath.Join(dir, "root")
	fail := func(err error) (string, func(), error) { cleanup(); return "", func() {}, err }

	step("debootstrap --variant=minbase %s from %s (a minute or more)", o.Suite, o.Mirror)
	if err := o.run(ctx, "debootstrap", "--variant=minbase", o.Suite, root, o.Mirror); err != nil {
		return fail(fmt.Errorf("debootstrap %s from %s failed: %w; check that this machine reaches the mirror (--mirror)", o.Suite, o.Mirror, err))
	}
	// apt in the chroot needs a resolver; no service may start.
	if b, err := os.ReadFile("/etc/resolv.conf"); err == nil {
		_ = os.WriteFile(filepath.Join(root, "etc/resolv.conf"), b, 0o644)
	}
	if err := os.WriteFile(filepath.Join(root, "usr/sbin/policy-rc.d"), []byte("#!/bin/sh\nexit 101\n"), 0o755); err != nil {
		return fail(err)
	}
	step("apt-get install %s", strings.Join(o.Packages, " "))
	if err := o.run(ctx, "chroot", root, "apt-get", "-q", "update"); err != nil {
		return fail(fmt.Errorf("apt-get update in the new root file system failed: %w", err))
	}
	args := append([]string{root, "env", "DEBIAN_FRONTEND=noninteractive", "apt-get", "-q", "-y", "--no-install-recommends", "install"}, o.Packages...)
	if err := o.run(ctx, "chroot", args...); err != nil {
		return fail(fmt.Errorf("installing %s in the new root file system failed: %w; check the package names for Debian %s", strings.Join(o.Packages, " "), err, o.Suite))
	}
	_ = o.run(ctx, "chroot", root, "apt-get", "clean")
	for _, p := range []string{"usr/sbin/policy-rc.d", "etc/resolv.conf"} {
		_ = os.Remove(filepath.Join(root, p))
	}
	if ents, err := os.ReadDir(filepath.Join(root, "var/lib/apt/lists")); err == nil {
		for _, e := range ents {
			if !e.IsDir() {
				_ = os.Remove(filepath.Join(root, "var/lib/apt/lists", e.Name()))
			}
		}
	}

	out := dest
	if out == "" {
		out = filepath.Join(dir, "rootfs.tar")
	}
	step("writing the root file system to %s", out)
	tmp := out + ".tmp"
	if err := o.run(ctx, "tar", "--numeric-owner", "--xattrs", "-C", root, "-cf", tmp, "."); err != nil {
		os.Remove(tmp)
		return fail(fmt.Errorf("writing the root file system: %w", err))
	}
	if err := os.Rename(tmp, out); err != nil {
		return fail(err)
	}
	if err := os.RemoveAll(root); err != nil {
		return fail(err)
	}
	return out, cleanup, nil
}

// run runs a tool with its output, line by line and indented, on
// Progress; an error carries the last lines.
func (o *BuildOptions) run(ctx context.Context, name string, args ...string) error {
	cmd := o.command(ctx, name, args...)
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	done := make(chan []string)
	go func() {
		var last []string
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			fmt.Fprintf(o.Progress, "    %s\n", sc.Text())
			last = append(last, sc.Text())
			if len(last) > 5 {
				last = last[1:]
			}
		}
		io.Copy(io.Discard, pr)
		done <- last
	}()
	err := cmd.Run()
	pw.Close()
	last := <-done
	if err != nil {
		if len(last) > 0 {
			return fmt.Errorf("%s: %w (last output: %s)", name, err, strings.Join(last, " | "))
		}
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

// RootFSKey names a root file system in the cache: what goes into it
// (the build's version, the suite, mirror, architecture and the sorted
// packages), hashed.
func RootFSKey(suite, mirror, arch string, packages []string) string {
	p := append([]string(nil), packages...)
	sort.Strings(p)
	h := sha256.New()
	fmt.Fprintf(h, "dockyard-rootfs %s\n%s\n%s\n%s\n%s\n", buildVersion, suite, mirror, arch, strings.Join(p, " "))
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// CheckStaticAgent checks that path is a statically linked ELF executable
// for this machine's architecture (a container has no host libraries) and
// returns its SHA-256.
func CheckStaticAgent(path string) (string, error) {
	if path == "" {
		return "", errdefs.Invalid("images build needs the dockyard agent: give --agent FILE, a static dockyard (CGO_ENABLED=0 go build -o dockyard-static ./cmd/dockyard)")
	}
	f, err := elf.Open(path)
	if err != nil {
		return "", errdefs.Invalidf("the agent %s is not an executable this machine runs (%v): give --agent a static dockyard (CGO_ENABLED=0 go build -o dockyard-static ./cmd/dockyard)", path, err)
	}
	defer f.Close()
	if f.Type != elf.ET_EXEC && f.Type != elf.ET_DYN {
		return "", errdefs.Invalidf("the agent %s is not an executable: give --agent a static dockyard", path)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return "", errdefs.Invalidf("the agent %s is dynamically linked, and the image has no Go toolchain's libraries to match: build a static one (CGO_ENABLED=0 go build -o dockyard-static ./cmd/dockyard) and pass --agent dockyard-static", path)
		}
	}
	if want := map[string]elf.Machine{"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64}[goruntime.GOARCH]; want != 0 && f.Machine != want {
		return "", errdefs.Invalidf("the agent %s is built for %s, not this machine (%s)", path, f.Machine, goruntime.GOARCH)
	}
	r, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer r.Close()
	h := sha256.New()
	if _, err := io.Copy(h, r); err != nil {
		return "", err
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), nil
}

// AppendAgent copies the root file system tar rootfs to w with the agent
// added at AgentPath (mode 0755, owned by root); an entry of the rootfs at
// that path is dropped.
func AppendAgent(w io.Writer, rootfs io.Reader, agent *os.File) error {
	tr := tar.NewReader(rootfs)
	tw := tar.NewWriter(w)
	name := strings.TrimPrefix(AgentPath, "/")
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("reading the root file system tar: %w", err)
		}
		if strings.TrimPrefix(filepath.Clean("/"+h.Name), "/") == name {
			continue
		}
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		if _, err := io.Copy(tw, tr); err != nil {
			return err
		}
	}
	fi, err := agent.Stat()
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("the agent %s is not a regular file", agent.Name())
	}
	if err := tw.WriteHeader(&tar.Header{Name: "./" + name, Mode: 0o755, Size: fi.Size(), Typeflag: tar.TypeReg,
		ModTime: time.Unix(fi.ModTime().Unix(), 0), Format: tar.FormatPAX}); err != nil {
		return err
	}
	if _, err := io.Copy(tw, agent); err != nil {
		return err
	}
	return tw.Close()
}

// goarch is the architecture the cache key names.
func goarch() string { return goruntime.GOARCH }
