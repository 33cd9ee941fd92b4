package process

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"

	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/runtime"
)

// The variables through which the agent learns its memory limit, so that a
// notebook that runs out of memory fails with a message naming the
// container, the limit and where it is set (internal/agent/runner).
const (
	envMemoryLimit   = "DOCKYARD_MEMORY_LIMIT"
	envMemorySetting = "DOCKYARD_MEMORY_LIMIT_SETTING"
	envHECCAFile     = "DOCKYARD_HEC_CA_FILE" // agent.EnvHECCAFile
)

// agentCmd builds the command that starts rec's agent listening on port:
// bwrap around the agent when sandboxed, prlimit around both when limits
// apply. Its environment is an allow-list (agentEnv); extra (secrets for
// this start only) goes in the start environment file, which the agent
// reads and deletes, so that it is neither on a command line nor in any
// process's initial environment.
func (r *Runtime) agentCmd(rec *record, port int, extra map[string]string) (*exec.Cmd, error) {
	d := r.dir(rec.ID)
	// The paths as the agent sees them.
	root, tlsDir, token, start := filepath.Join(d, "root"), filepath.Join(d, "tls"), filepath.Join(d, "token"), filepath.Join(d, "start")
	if r.sandboxed {
		root, tlsDir, token, start = sbRoot, sbSecret+"/tls", sbSecret+"/token", sbStart
		if err := writeSandboxFiles(d); err != nil {
			return nil, fmt.Errorf("container %q: %w", rec.Name, err)
		}
	}
	if err := os.MkdirAll(filepath.Join(d, "start"), 0o700); err != nil {
		return nil, fmt.Errorf("container %q: %w", rec.Name, err)
	}
	if r.sandboxed {
		extra = r.copyHECCA(rec, d, extra)
	}
	if err := r.writeStartEnv(d, extra); err != nil {
		return nil, fmt.Errorf("container %q: writing its start environment: %w", rec.Name, err)
	}
	args := []string{"agent", "--addr", fmt.Sprintf("127.0.0.1:%d", port),
		"--cert", tlsDir + "/cert.pem", "--key", tlsDir + "/key.pem",
		"--token-file", token, "--env-file", start + "/start.env", "--root", root}
	if len(r.cfg.ClientCAPEM) > 0 {
		// Written at every start: a container created before mutual TLS
		// was on gets it at its next start.
		if err := os.WriteFile(filepath.Join(d, "tls", "client-ca.pem"), r.cfg.ClientCAPEM, 0o600); err != nil {
			return nil, fmt.Errorf("container %q: writing its client CA: %w", rec.Name, err)
		}
		args = append(args, "--client-ca", tlsDir+"/client-ca.pem")
	}
	if r.python != "" {
		args = append(args, "--python", r.python)
	}
	args = append(args, rec.Args...)
	cmd := r.cfg.Command(args)
	if cmd.Err != nil {
		return nil, errdefs.Unavailablef("container %q: the agent command: %w", rec.Name, cmd.Err)
	}
	env := r.agentEnv(rec, root, cmd.Env)
	if r.sandboxed {
		bin, err := filepath.Abs(cmd.Path)
		if err != nil {
			return nil, fmt.Errorf("container %q: %w", rec.Name, err)
		}
		bargs := append(r.sandboxArgs(d, bin), sbAgent)
		cmd = exec.Command(r.cfg.Bwrap, append(bargs, cmd.Args[1:]...)...)
	} else {
		cmd.Dir = root
	}
	// bwrap passes its own environment on: it is the allow-list, and the
	// values stay off bwrap's command line.
	cmd.Env = env
	return r.withLimits(rec, cmd)
}

// copyHECCA copies the file DOCKYARD_HEC_CA_FILE names (a path on the
// server's machine, which the sandbox does not see) into the container's
// start directory and points the variable there.
func (r *Runtime) copyHECCA(rec *record, d string, extra map[string]string) map[string]string {
	p := extra[envHECCAFile]
	if p == "" {
		return extra
	}
	out := make(map[string]string, len(extra))
	for k, v := range extra {
		out[k] = v
	}
	delete(out, envHECCAFile)
	b, err := os.ReadFile(p)
	if err == nil {
		err = os.WriteFile(filepath.Join(d, "start", "hec-ca.pem"), b, 0o644)
	}
	if err != nil {
		r.log.Warn("the HEC CA file cannot be copied into the sandbox: its notebooks get no "+envHECCAFile, "name", rec.Name, "file", p, "err", err)
		return out
	}
	out[envHECCAFile] = sbStart + "/hec-ca.pem"
	return out
}

// writeStartEnv writes extra as d/start/start.env (0600), or removes a
// stale one.
func (r *Runtime) writeStartEnv(d string, extra map[string]string) error {
	dir := filepath.Join(d, "start")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	p := filepath.Join(dir, "start.env")
	if len(extra) == 0 {
		if err := os.Remove(p); err != nil && !os.IsNotExist(err) {
			return err
		}
		return nil
	}
	var b strings.Builder
	for _, kv := range appendEnv(nil, extra) {
		if strings.ContainsAny(kv, "\n\r\x00") {
			k, _, _ := strings.Cut(kv, "=")
			return errdefs.Invalidf("start environment variable %s holds a line break", k)
		}
		b.WriteString(kv + "\n")
	}
	tmp := p + ".tmp"
	if err := os.WriteFile(tmp, []byte(b.String()), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, p)
}

// agentEnv is the agent's whole environment: PATH, HOME (the container
// root), LANG, the spec's variables, DOCKYARD_CONTAINER, the memory limit,
// and what the configured command set (cmdEnv, taken as is). Nothing of
// the server's own environment.
func (r *Runtime) agentEnv(rec *record, root string, cmdEnv []string) []string {
	env := map[string]string{"PATH": sbPath, "HOME": root, "LANG": "C.UTF-8"}
	for k, v := range rec.Env {
		env[k] = v
	}
	env["DOCKYARD_CONTAINER"] = rec.Name
	lim, setting := r.limits(rec)
	if lim.MemoryBytes > 0 {
		env[envMemoryLimit] = strconv.FormatInt(lim.MemoryBytes, 10)
		env[envMemorySetting] = setting
	}
	return append(appendEnv(nil, env), cmdEnv...)
}

// limits are rec's limits, each 0 taken from the runtime's defaults, and
// where the memory limit is set.
func (r *Runtime) limits(rec *record) (runtime.Limits, string) {
	l := rec.Limits
	setting := "the container's memory limit"
	if l.MemoryBytes == 0 {
		l.MemoryBytes = r.cfg.Limits.MemoryBytes
		if r.cfg.LimitsSetting != "" {
			setting = r.cfg.LimitsSetting + ".memory_bytes"
		}
	}
	if l.MaxProcs == 0 {
		l.MaxProcs = r.cfg.Limits.MaxProcs
	}
	if l.MaxOpenFiles == 0 {
		l.MaxOpenFiles = r.cfg.Limits.MaxOpenFiles
	}
	return l, setting
}

// withLimits runs cmd under util-linux's prlimit with rec's limits as
// rlimits (soft and hard): memory as RLIMIT_DATA (the data segment and
// private writable mappings of each process), processes as RLIMIT_NPROC
// and open files as RLIMIT_NOFILE. Every process of the container inherits
// them.
func (r *Runtime) withLimits(rec *record, cmd *exec.Cmd) (*exec.Cmd, error) {
	lim, _ := r.limits(rec)
	var args []string
	for _, l := range []struct {
		flag string
		n    int64
	}{{"--data", lim.MemoryBytes}, {"--nproc", lim.MaxProcs}, {"--nofile", lim.MaxOpenFiles}} {
		if l.n > 0 {
			args = append(args, fmt.Sprintf("%s=%d:%d", l.flag, l.n, l.n))
		}
	}
	if len(args) == 0 {
		return cmd, nil
	}
	if r.prlimit == "" {
		return nil, errdefs.Unavailablef("container %q: prlimit is not installed, so its limits cannot be applied: install the Debian package util-linux, or set the limits to 0", rec.Name)
	}
	args = append(append(args, "--", cmd.Path), cmd.Args[1:]...)
	out := exec.Command(r.prlimit, args...)
	out.Env, out.Dir = cmd.Env, cmd.Dir
	return out, nil
}

// appendEnv appends env as KEY=VALUE in key order.
func appendEnv(dst []string, env map[string]string) []string {
	keys := make([]string, 0, len(env))
	for k := range env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		dst = append(dst, k+"="+env[k])
	}
	return dst
}

// terminate asks rec's agent to stop. Sandboxed, the agent is bwrap's
// child (it runs in a new session): it gets SIGTERM itself, and bwrap
// ends when it does; signalling bwrap would kill the sandbox at once.
func (r *Runtime) terminate(rec *record) {
	if rec.Sandboxed {
		kids := children(rec.PID)
		for _, k := range kids {
			_ = syscall.Kill(k, syscall.SIGTERM)
		}
		if len(kids) > 0 {
			return
		}
	}
	signalGroup(rec.PID, syscall.SIGTERM)
}

// children lists pid's child processes (/proc/PID/task/PID/children).
func children(pid int) []int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", pid, pid))
	if err != nil {
		return nil
	}
	var out []int
	for _, f := range strings.Fields(string(b)) {
		if n, err := strconv.Atoi(f); err == nil {
			out = append(out, n)
		}
	}
	return out
}
