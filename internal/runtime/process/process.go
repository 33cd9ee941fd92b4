// Package process is the embedded default runtime: each container is a
// `dockyard agent` child process with its own root directory (notebooks/,
// notebooks/data/, app/model/data/), its own port on 127.0.0.1, its own TLS
// certificate and a fresh API token.
//
// Everything about a container lives in BaseDir/<id>/: container.json (spec,
// labels, pid, port), token and tls/ (mode 0600), agent.log, and root/.
// With Config.ClientCAPEM the agents require a client certificate signed
// by that CA (mutual TLS) in addition to their bearer token. A
// new Runtime on the same BaseDir (a restarted server) lists and adopts the
// containers started before: a recorded pid that is still the same process
// (same start time in /proc) is running, anything else has exited.
//
// Unless Config.Sandbox is "off", each agent (and the notebook runner it
// starts) runs in a bubblewrap sandbox (see sandbox.go and
// docs/containers.md): its own mount, PID, IPC, UTS and user namespaces,
// the system directories read-only, a private /tmp, and of the host only
// its container's root (read-write), TLS files and token. The network is
// shared (the agent listens on 127.0.0.1 as before), so the server still
// reaches it with mutual TLS and the token. Whether sandboxed or not, the
// agent's environment is an allow-list built here: nothing of the server's
// environment passes. Memory, process and open-file limits are rlimits
// (set with util-linux's prlimit). GPUs are refused and the image is
// recorded only.
package process

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/runtime"
)

// Issuer issues TLS server certificates; *pki.CA implements it.
type Issuer interface {
	IssueServer(cn string, hosts []string, ttl time.Duration) (certPEM, keyPEM []byte, err error)
}

// Config configures the runtime. Zero values: Command runs os.Executable()
// with the agent arguments; CertTTL 30 days; StartTimeout 60 s; RemoveGrace
// 5 s; Python empty (the agent's own default, python3).
type Config struct {
	BaseDir string // where containers live
	Issuer  Issuer // signs each container's certificate
	// Command builds the command for the agent arguments (beginning with
	// "agent"). Tests re-execute their own binary here.
	Command      func(args []string) *exec.Cmd
	Python       string // interpreter the agents' notebook runners use
	CertTTL      time.Duration
	StartTimeout time.Duration
	RemoveGrace  time.Duration
	Logger       *slog.Logger
	// ClientCAPEM, when set, is the CA certificate (PEM) whose client
	// certificates the agents started from now on require (mutual TLS):
	// it is written to tls/client-ca.pem at each start and passed as
	// --client-ca. ClientCert must then be set. Empty: agents ask for no
	// client certificate.
	ClientCAPEM []byte
	// ClientCert is the client certificate the readiness probe presents
	// (the server's own, issued by the ClientCAPEM CA); nil presents none.
	// An agent that asks for none ignores it.
	ClientCert *tls.Certificate
	// Sandbox is required, auto ("" too) or off: see SandboxRequired.
	Sandbox string
	// Bwrap is the bubblewrap program; "" means DefaultBwrap.
	Bwrap string
	// Limits apply to containers whose spec leaves a limit at 0.
	Limits runtime.Limits
	// LimitsSetting names where the limits are configured, for messages
	// (such as "containers.limits"); "" means the container's spec.
	LimitsSetting string
}

// Runtime is the process runtime.
type Runtime struct {
	cfg  Config
	log  *slog.Logger
	mu   sync.Mutex
	kids map[string]*child // processes this instance started, by id

	sandboxed      bool     // agents start in the bubblewrap sandbox
	unsandboxedWhy string   // when not: why, naming the package and the setting
	python         string   // the interpreter passed to agents (--python)
	pyBinds        []string // directories the interpreter needs outside /usr
	prlimit        string   // util-linux's prlimit, when limits are set
}

type child struct {
	cmd  *exec.Cmd
	done chan struct{}
}

var _ runtime.Runtime = (*Runtime)(nil)

// New returns a runtime keeping its containers under cfg.BaseDir.
func New(cfg Config) (*Runtime, error) {
	if cfg.BaseDir == "" {
		return nil, errdefs.Invalid("process runtime: no base directory")
	}
	if cfg.Issuer == nil {
		return nil, errdefs.Invalid("process runtime: no certificate issuer")
	}
	if len(cfg.ClientCAPEM) > 0 {
		if !x509.NewCertPool().AppendCertsFromPEM(cfg.ClientCAPEM) {
			return nil, errdefs.Invalid("process runtime: the client CA holds no PEM certificate")
		}
		if cfg.ClientCert == nil {
			return nil, errdefs.Invalid("process runtime: a client CA is set but no client certificate: the readiness probe needs one the agents accept")
		}
	}
	if cfg.CertTTL <= 0 {
		cfg.CertTTL = 30 * 24 * time.Hour
	}
	if cfg.StartTimeout <= 0 {
		cfg.StartTimeout = 60 * time.Second
	}
	if cfg.RemoveGrace <= 0 {
		cfg.RemoveGrace = 5 * time.Second
	}
	if cfg.Command == nil {
		exe, err := os.Executable()
		if err != nil {
			return nil, fmt.Errorf("process runtime: finding the dockyard binary: %w", err)
		}
		cfg.Command = func(args []string) *exec.Cmd { return exec.Command(exe, args...) }
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Bwrap == "" {
		cfg.Bwrap = DefaultBwrap
	}
	if err := checkLimits(cfg.Limits, "process runtime"); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.BaseDir, 0o700); err != nil {
		return nil, fmt.Errorf("process runtime: %w", err)
	}
	r := &Runtime{cfg: cfg, log: cfg.Logger, kids: map[string]*child{}, python: cfg.Python}
	if err := r.chooseSandbox(); err != nil {
		return nil, err
	}
	if cfg.Python != "" {
		exe, binds, err := resolvePython(cfg.Python)
		if err != nil {
			r.log.Warn("the notebook interpreter does not run; notebooks will fail until it does", "err", err)
		} else {
			r.python, r.pyBinds = exe, binds
		}
	}
	if p, err := exec.LookPath("prlimit"); err == nil {
		r.prlimit = p
	}
	return r, nil
}

// checkLimits refuses negative limits.
func checkLimits(l runtime.Limits, what string) error {
	if l.CPUs < 0 || l.MemoryBytes < 0 || l.MaxProcs < 0 || l.MaxOpenFiles < 0 {
		return errdefs.Invalidf("%s: limits must be 0 (unlimited) or more", what)
	}
	return nil
}

// record is container.json.
type record struct {
	ID       string            `json:"id"`
	Name     string            `json:"name"`
	Image    string            `json:"image"`
	Labels   map[string]string `json:"labels"`
	Env      map[string]string `json:"env,omitempty"`
	GPUs     int               `json:"gpus,omitempty"`
	Limits   runtime.Limits    `json:"limits"`
	Args     []string          `json:"args,omitempty"`
	Created  time.Time         `json:"created"`
	Started  time.Time         `json:"started,omitempty"`
	Port     int               `json:"port,omitempty"`
	PID      int               `json:"pid,omitempty"`
	PIDStart uint64            `json:"pid_start,omitempty"` // /proc/<pid>/stat start time, to tell a reused pid
	// Sandboxed: PID is bwrap's, and the agent is its child.
	Sandboxed bool `json:"sandboxed,omitempty"`
}

func (r *Runtime) dir(id string) string { return filepath.Join(r.cfg.BaseDir, id) }

func (r *Runtime) load(id string) (*record, error) {
	if runtime.ValidateName(id) != nil {
		return nil, errdefs.NotFoundf("container %q not found", id)
	}
	b, err := os.ReadFile(filepath.Join(r.dir(id), "container.json"))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, errdefs.NotFoundf("container %q not found", id)
		}
		return nil, fmt.Errorf("container %q: %w", id, err)
	}
	var rec record
	if err := json.Unmarshal(b, &rec); err != nil {
		return nil, fmt.Errorf("container %q: container.json is damaged: %w", id, err)
	}
	return &rec, nil
}

func (r *Runtime) save(rec *record) error {
	b, err := json.MarshalIndent(rec, "", "  ")
	if err != nil {
		return err
	}
	p := filepath.Join(r.dir(rec.ID), "container.json")
	tmp := p + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return fmt.Errorf("container %q: %w", rec.ID, err)
	}
	return os.Rename(tmp, p)
}

func (r *Runtime) all() ([]*record, error) {
	ents, err := os.ReadDir(r.cfg.BaseDir)
	if err != nil {
		return nil, fmt.Errorf("process runtime: %w", err)
	}
	var out []*record
	for _, e := range ents {
		if !e.IsDir() {
			continue
		}
		rec, err := r.load(e.Name())
		if err != nil {
			if !errdefs.IsNotFound(err) {
				r.log.Warn("skipping unreadable container", "id", e.Name(), "err", err)
			}
			continue
		}
		out = append(out, rec)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func (r *Runtime) running(rec *record) bool {
	return rec.PID > 0 && alive(rec.PID, rec.PIDStart)
}

func (r *Runtime) container(rec *record) runtime.Container {
	c := runtime.Container{ID: rec.ID, Name: rec.Name, Image: rec.Image, Labels: runtime.WithManaged(rec.Labels),
		Created: rec.Created, Started: rec.Started, State: runtime.StateCreated}
	if tok, err := os.ReadFile(filepath.Join(r.dir(rec.ID), "token")); err == nil {
		c.Token = string(tok)
	}
	switch {
	case r.running(rec):
		c.State = runtime.StateRunning
		c.Endpoint = fmt.Sprintf("https://127.0.0.1:%d", rec.Port)
	case !rec.Started.IsZero():
		c.State = runtime.StateExited
	}
	return c
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Create implements runtime.Runtime: it makes the container's directory,
// files, certificate and token.
func (r *Runtime) Create(ctx context.Context, spec runtime.Spec) (runtime.Container, error) {
	if err := runtime.ValidateSpec(spec); err != nil {
		return runtime.Container{}, err
	}
	if spec.GPUs > 0 {
		return runtime.Container{}, errdefs.Invalidf("container %q: the process runtime cannot give a container GPUs; use the docker runtime", spec.Name)
	}
	if err := checkLimits(spec.Limits, fmt.Sprintf("container %q", spec.Name)); err != nil {
		return runtime.Container{}, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	recs, err := r.all()
	if err != nil {
		return runtime.Container{}, err
	}
	for _, rec := range recs {
		if rec.Name == spec.Name {
			return runtime.Container{}, errdefs.Conflictf("container name %q is in use by %s: remove it first", spec.Name, rec.ID)
		}
	}
	rec := &record{ID: randomHex(6), Name: spec.Name, Image: spec.Image, Labels: runtime.WithManaged(spec.Labels),
		Env: spec.Env, GPUs: spec.GPUs, Limits: spec.Limits, Args: spec.Args, Created: time.Now().UTC()}
	d := r.dir(rec.ID)
	if err := r.layout(d, spec); err != nil {
		os.RemoveAll(d)
		return runtime.Container{}, fmt.Errorf("container %q: %w", spec.Name, err)
	}
	if err := r.save(rec); err != nil {
		os.RemoveAll(d)
		return runtime.Container{}, err
	}
	r.log.Info("container created", "id", rec.ID, "name", rec.Name)
	return r.container(rec), nil
}

func (r *Runtime) layout(d string, spec runtime.Spec) error {
	for _, sub := range []string{"root/notebooks/data", "root/app/model/data", "tls", "start"} {
		if err := os.MkdirAll(filepath.Join(d, sub), 0o700); err != nil {
			return err
		}
	}
	for p, b := range spec.Files {
		full := filepath.Join(d, "root", filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(full, b, 0o644); err != nil {
			return err
		}
	}
	certPEM, keyPEM, err := agentCert(spec, r.cfg.Issuer, []string{"127.0.0.1", "localhost"}, r.cfg.CertTTL)
	if err != nil {
		return fmt.Errorf("issuing the agent certificate: %w", err)
	}
	if err := os.WriteFile(filepath.Join(d, "tls", "cert.pem"), certPEM, 0o600); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(d, "tls", "key.pem"), keyPEM, 0o600); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(d, "token"), []byte(randomHex(32)), 0o600)
}

// CertPEM returns the container's agent certificate, which clients may pin.
func (r *Runtime) CertPEM(ctx context.Context, id string) ([]byte, error) {
	if _, err := r.load(id); err != nil {
		return nil, err
	}
	return os.ReadFile(filepath.Join(r.dir(id), "tls", "cert.pem"))
}

// List implements runtime.Runtime.
func (r *Runtime) List(ctx context.Context, labels map[string]string) ([]runtime.Container, error) {
	recs, err := r.all()
	if err != nil {
		return nil, err
	}
	var out []runtime.Container
	for _, rec := range recs {
		c := r.container(rec)
		if runtime.MatchLabels(c.Labels, labels) {
			out = append(out, c)
		}
	}
	return out, nil
}

// Inspect implements runtime.Runtime.
func (r *Runtime) Inspect(ctx context.Context, id string) (runtime.Container, error) {
	rec, err := r.load(id)
	if err != nil {
		return runtime.Container{}, err
	}
	return r.container(rec), nil
}

// Remove implements runtime.Runtime.
func (r *Runtime) Remove(ctx context.Context, id string) error {
	if err := r.Stop(ctx, id, r.cfg.RemoveGrace); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := os.RemoveAll(r.dir(id)); err != nil {
		return fmt.Errorf("removing container %q: %w", id, err)
	}
	delete(r.kids, id)
	r.log.Info("container removed", "id", id)
	return nil
}
