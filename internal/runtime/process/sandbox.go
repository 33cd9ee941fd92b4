package process

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/dockyard/dockyard/internal/errdefs"
)

// The sandbox settings (Config.Sandbox, the containers.process.sandbox key).
const (
	SandboxRequired = "required" // refuse to start without a working bwrap
	SandboxAuto     = "auto"     // sandbox when bwrap works, else run unsandboxed
	SandboxOff      = "off"      // never sandbox
)

// DefaultBwrap is where Debian's bubblewrap package installs bwrap.
const DefaultBwrap = "/usr/bin/bwrap"

// Paths inside the sandbox (the same as in the Docker runtime's image where
// they mean the same thing).
const (
	sbRoot   = "/srv"                 // the container's root, read-write
	sbSecret = "/run/dockyard"        // tls/ (read-only), token (read-only)
	sbStart  = "/run/dockyard/start"  // read-write: the start environment file
	sbAgent  = "/run/dockyard/bin/dy" // the agent binary, read-only
	sbPath   = "/usr/local/bin:/usr/bin:/bin"
)

// The files of the host's /etc a sandbox sees (read-only, where they
// exist): the dynamic linker's cache, time zone, name resolution for
// loopback and the public CA certificates. Not /etc as a whole.
var sandboxEtc = []string{"/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/localtime",
	"/etc/hosts", "/etc/nsswitch.conf", "/etc/ssl/certs", "/etc/ca-certificates", "/etc/alternatives"}

// systemDirs are bound read-only: /usr, and /bin, /lib* and /sbin as the
// host has them (a symbolic link into /usr on a merged-/usr system, else a
// directory).
var systemDirs = []string{"/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"}

// Isolated implements runtime.Isolator: containers started from now on are
// sandboxed only when bwrap was found working at New (or is required).
func (r *Runtime) Isolated() (bool, string) {
	if r.sandboxed {
		return true, ""
	}
	return false, r.unsandboxedWhy
}

// chooseSandbox applies cfg.Sandbox: it probes bwrap (once) unless the
// setting is off.
func (r *Runtime) chooseSandbox() error {
	mode := r.cfg.Sandbox
	switch mode {
	case "":
		mode = SandboxAuto
	case SandboxRequired, SandboxAuto, SandboxOff:
	default:
		return errdefs.Invalidf("process runtime: sandbox %q is not one of required, auto, off (containers.process.sandbox)", mode)
	}
	r.cfg.Sandbox = mode
	if mode == SandboxOff {
		r.unsandboxedWhy = "the process runtime's sandbox is off (containers.process.sandbox: off): containers are not a security boundary; " +
			"install the Debian package bubblewrap and set containers.process.sandbox to auto or required"
		return nil
	}
	err := probeBwrap(r.cfg.Bwrap)
	if err == nil {
		r.sandboxed = true
		return nil
	}
	if mode == SandboxRequired {
		return errdefs.Unavailablef("process runtime: containers.process.sandbox is required but bubblewrap does not work: %w; install the Debian package bubblewrap (apt-get install bubblewrap), or set containers.process.sandbox to auto or off", err)
	}
	r.unsandboxedWhy = fmt.Sprintf("the process runtime runs unsandboxed (containers.process.sandbox: auto): bubblewrap does not work (%v): containers are not a security boundary; "+
		"install the Debian package bubblewrap (or set containers.process.bwrap to its path)", err)
	return nil
}

// probeBwrap runs `bwrap ... /bin/true` with the namespaces a sandbox uses.
func probeBwrap(bwrap string) error {
	if _, err := os.Stat(bwrap); err != nil {
		return fmt.Errorf("%s: %w", bwrap, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	args := append([]string{"--unshare-all", "--share-net", "--die-with-parent", "--new-session", "--cap-drop", "ALL"},
		systemBinds()...)
	args = append(args, "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp", "/bin/true")
	cmd := exec.CommandContext(ctx, bwrap, args...)
	cmd.Env = []string{"PATH=" + sbPath}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s /bin/true: %w: %s", bwrap, err, strings.TrimSpace(out.String()))
	}
	return nil
}

// systemBinds are the bwrap arguments for the system directories.
func systemBinds() []string {
	args := []string{"--ro-bind", "/usr", "/usr"}
	for _, d := range systemDirs {
		fi, err := os.Lstat(d)
		switch {
		case err != nil:
		case fi.Mode()&os.ModeSymlink != 0:
			if target, err := os.Readlink(d); err == nil {
				args = append(args, "--symlink", target, d)
			}
		case fi.IsDir():
			args = append(args, "--ro-bind", d, d)
		}
	}
	for _, e := range sandboxEtc {
		args = append(args, "--ro-bind-try", e, e)
	}
	return args
}

// sandboxArgs are bwrap's arguments for container dir d: everything up to
// the command, which runs as PID 1 of the sandbox. The agent binary is
// bound at sbAgent, and the interpreter's directories outside /usr read-only.
func (r *Runtime) sandboxArgs(d, agentBin string) []string {
	args := []string{"--unshare-all", "--share-net", "--die-with-parent", "--new-session",
		"--cap-drop", "ALL", "--as-pid-1"}
	args = append(args, systemBinds()...)
	args = append(args,
		"--ro-bind", filepath.Join(d, "sandbox", "passwd"), "/etc/passwd",
		"--ro-bind", filepath.Join(d, "sandbox", "group"), "/etc/group",
		"--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp",
		"--bind", filepath.Join(d, "root"), sbRoot,
		"--ro-bind", filepath.Join(d, "tls"), sbSecret+"/tls",
		"--ro-bind", filepath.Join(d, "token"), sbSecret+"/token",
		"--bind", filepath.Join(d, "start"), sbStart,
		"--ro-bind", agentBin, sbAgent)
	for _, p := range r.pyBinds {
		args = append(args, "--ro-bind", p, p)
	}
	return append(args, "--chdir", sbRoot)
}

// writeSandboxFiles writes the sandbox's own /etc/passwd and /etc/group
// (one user, uid and gid as the agent runs) under d/sandbox.
func writeSandboxFiles(d string) error {
	if err := os.MkdirAll(filepath.Join(d, "sandbox"), 0o700); err != nil {
		return err
	}
	uid, gid := os.Getuid(), os.Getgid()
	passwd := fmt.Sprintf("dockyard:x:%d:%d:Dockyard container:%s:/bin/sh\n", uid, gid, sbRoot)
	if err := os.WriteFile(filepath.Join(d, "sandbox", "passwd"), []byte(passwd), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(d, "sandbox", "group"), []byte(fmt.Sprintf("dockyard:x:%d:\n", gid)), 0o644)
}

// resolvePython finds the interpreter cfg.Python names the way the agent
// would (on the server's PATH) and, for the sandbox, the directories it
// needs that are not already bound read-only (a pyenv or virtualenv
// prefix). It asks the interpreter itself; when that fails the name is
// kept as given and the runner's start names the interpreter it could not
// run.
func resolvePython(name string) (exe string, prefixes []string, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, name, "-c",
		"import sys; print(sys.executable); print(sys.prefix); print(sys.base_prefix)").Output()
	if err != nil {
		return name, nil, fmt.Errorf("python interpreter %q: %w", name, err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != 3 || !filepath.IsAbs(lines[0]) {
		return name, nil, fmt.Errorf("python interpreter %q did not name its executable", name)
	}
	exe = lines[0]
	cands := []string{filepath.Dir(exe), lines[1], lines[2]}
	if real, err := filepath.EvalSymlinks(exe); err == nil {
		cands = append(cands, filepath.Dir(real))
	}
	sort.Slice(cands, func(i, j int) bool { return len(cands[i]) < len(cands[j]) })
	for _, p := range cands {
		if p == "" || underSystem(p) {
			continue
		}
		dup := false
		for _, q := range prefixes {
			dup = dup || q == p || strings.HasPrefix(p, q+"/")
		}
		if !dup {
			prefixes = append(prefixes, p)
		}
	}
	return exe, prefixes, nil
}

// underSystem reports whether p lies in a directory every sandbox binds.
func underSystem(p string) bool {
	for _, d := range append([]string{"/usr"}, systemDirs...) {
		if p == d || strings.HasPrefix(p, d+"/") {
			return true
		}
	}
	return false
}
