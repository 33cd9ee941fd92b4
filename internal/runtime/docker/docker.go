// Package docker is the Docker Engine backend of runtime.Runtime: each
// container is a Docker container that runs `dockyard agent` from its image,
// with its own TLS certificate, a fresh API token and its agent port
// published on 127.0.0.1 with a random host port.
//
// Before a container is first started, its certificate, key and token
// (mode 0600, under /run/dockyard/) and the spec's files (under the agent
// root, /srv) are copied into it through the Engine's archive endpoint, so
// no secret is ever part of the container's configuration or `docker
// inspect`. The token and certificate are also kept in Config.StateDir
// (0600, keyed by container id), so that a restarted server can talk to
// the agents it started; when that file is missing they are read back from
// the container. Secrets for one start (trace settings, a HEC token) go
// through StartWithEnv: a 0600 file the agent reads and deletes
// (--env-file). With Config.ClientCAPEM the CA is copied in as ClientCAFile
// and the agent requires a client certificate signed by it (--client-ca,
// mutual TLS) in addition to its token.
//
// Containers carry Spec.Labels, runtime.LabelManaged and this runtime's
// scope label, and are found again by label: a new Runtime over the same
// daemon with the same Scope adopts them. Nothing but the token cache is
// kept on the host.
package docker

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/client"

	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/runtime"
)

// Labels this runtime adds for itself (besides runtime.LabelManaged).
const (
	LabelScope = "dockyard.runtime-scope" // Config.Scope; containers of other scopes are invisible
	LabelName  = "dockyard.runtime-name"  // Spec.Name (the Docker name carries a prefix)
)

// Paths inside the container.
const (
	AgentRoot = "/srv"          // the agent's root: notebooks/, notebooks/data/, app/model/data/
	SecretDir = "/run/dockyard" // cert.pem, key.pem, token (0600)
	// StartDir is the agent user's own directory under SecretDir (the
	// root file system is read-only, and SecretDir a volume owned by root).
	StartDir = SecretDir + "/start"
	// StartEnvFile holds one start's environment (StartWithEnv, 0600);
	// the agent reads and deletes it (--env-file).
	StartEnvFile = StartDir + "/start.env"
	// HECCAFile is where StartWithEnv copies the HEC CA file named by
	// DOCKYARD_HEC_CA_FILE, a path on the server's machine.
	HECCAFile = SecretDir + "/hec-ca.pem"
	// ClientCAFile is Config.ClientCAPEM in the container (--client-ca).
	ClientCAFile = SecretDir + "/client-ca.pem"
	AgentPort    = 8443 // the agent listens on 0.0.0.0:AgentPort
)

// Issuer issues TLS server certificates; *pki.CA implements it.
type Issuer interface {
	IssueServer(cn string, hosts []string, ttl time.Duration) (certPEM, keyPEM []byte, err error)
}

// Config configures the runtime. Zero values: Host from DOCKER_HOST, else
// the local socket; Entrypoint ["/dockyard"]; PublishIP 127.0.0.1; CertTTL
// 30 days; StartTimeout 60 s; RemoveGrace 5 s; Python empty (the agent's
// own default, python3).
type Config struct {
	// Host is the Docker daemon, such as unix:///var/run/docker.sock. The
	// daemon must run on this machine: agents are reached on PublishIP.
	Host string
	// StateDir keeps each container's token and certificate (0600).
	StateDir string
	Issuer   Issuer
	// Scope separates the containers of several servers (or tests) on one
	// daemon: it is stored as LabelScope and prefixes the Docker names.
	Scope string
	// Entrypoint is the dockyard binary in the image; "agent" and its
	// flags follow.
	Entrypoint   []string
	Python       string // interpreter the agents' notebook runners use
	PublishIP    string // host address the agent port is published on
	CertTTL      time.Duration
	StartTimeout time.Duration
	RemoveGrace  time.Duration
	Logger       *slog.Logger
	// ClientCAPEM, when set, is the CA certificate (PEM) whose client
	// certificates the agents of containers created from now on require
	// (mutual TLS): it is copied in as ClientCAFile and passed as
	// --client-ca. ClientCert must then be set. Containers created
	// without it keep asking for no client certificate.
	ClientCAPEM []byte
	// ClientCert is the client certificate the readiness probe presents
	// (the server's own, issued by the ClientCAPEM CA); nil presents none.
	// An agent that asks for none ignores it.
	ClientCert *tls.Certificate
	// User is the numeric UID:GID the agent runs as; "" means DefaultUser.
	// Root ("0" or "0:...") is refused.
	User string
	// Limits apply to containers whose spec leaves a limit at 0.
	Limits runtime.Limits
	// LimitsSetting names where the limits are configured, for messages
	// (such as "containers.limits").
	LimitsSetting string
	// GPUDevices are the host's GPUs (containers.gpu.docker_devices), the
	// pool GPUs reports; the server gives each container its own of them
	// (runtime.Spec.GPUDevices). Empty: the engine picks GPUs by count.
	GPUDevices []string
}

// DefaultUser is the user the agents run as: nobody:nogroup.
const DefaultUser = "65534:65534"

// Runtime is the Docker runtime.
type Runtime struct {
	cfg Config
	cli *client.Client
	log *slog.Logger

	mu     sync.Mutex
	tokens map[string]string // read back from containers

	uid, gid int // Config.User, parsed: the owner of the files copied in
}

var _ runtime.Runtime = (*Runtime)(nil)

// New returns a runtime over the Docker daemon cfg.Host. It does no I/O;
// Ping checks that the daemon answers.
func New(cfg Config) (*Runtime, error) {
	if cfg.StateDir == "" {
		return nil, errdefs.Invalid("docker runtime: no state directory")
	}
	if cfg.Issuer == nil {
		return nil, errdefs.Invalid("docker runtime: no certificate issuer")
	}
	if len(cfg.ClientCAPEM) > 0 {
		if !x509.NewCertPool().AppendCertsFromPEM(cfg.ClientCAPEM) {
			return nil, errdefs.Invalid("docker runtime: the client CA holds no PEM certificate")
		}
		if cfg.ClientCert == nil {
			return nil, errdefs.Invalid("docker runtime: a client CA is set but no client certificate: the readiness probe needs one the agents accept")
		}
	}
	if len(cfg.Entrypoint) == 0 {
		cfg.Entrypoint = []string{"/dockyard"}
	}
	if cfg.PublishIP == "" {
		cfg.PublishIP = "127.0.0.1"
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
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.User == "" {
		cfg.User = DefaultUser
	}
	uid, gid, err := parseUser(cfg.User)
	if err != nil {
		return nil, err
	}
	if cfg.Limits.CPUs < 0 || cfg.Limits.MemoryBytes < 0 || cfg.Limits.MaxProcs < 0 || cfg.Limits.MaxOpenFiles < 0 {
		return nil, errdefs.Invalid("docker runtime: limits must be 0 (unlimited) or more")
	}
	opts := []client.Opt{client.FromEnv} // the client negotiates the API version by default
	if cfg.Host != "" {
		opts = append(opts, client.WithHost(cfg.Host))
	}
	cli, err := client.New(opts...)
	if err != nil {
		return nil, errdefs.Invalidf("docker runtime: daemon address %q: %w", cfg.Host, err)
	}
	if err := os.MkdirAll(cfg.StateDir, 0o700); err != nil {
		return nil, fmt.Errorf("docker runtime: %w", err)
	}
	return &Runtime{cfg: cfg, cli: cli, log: cfg.Logger, tokens: map[string]string{}, uid: uid, gid: gid}, nil
}

// Close releases the client's connections.
func (r *Runtime) Close() error { return r.cli.Close() }

// Ping checks that the daemon answers and speaks an API version the
// client supports (1.40 or later); ErrUnavailable otherwise.
func (r *Runtime) Ping(ctx context.Context) error {
	p, err := r.cli.Ping(ctx, client.PingOptions{NegotiateAPIVersion: true})
	if err != nil {
		return errdefs.Unavailablef("docker runtime: the Docker daemon at %s does not answer (%w): is it running, and may this user open its socket?", r.cli.DaemonHost(), err)
	}
	r.log.Debug("docker daemon answers", "api", p.APIVersion, "client_api", r.cli.ClientVersion())
	return nil
}

// dockerName is the Docker name of the container spec name.
func (r *Runtime) dockerName(name string) string {
	if r.cfg.Scope == "" {
		return "dockyard-" + name
	}
	var b strings.Builder
	for _, c := range r.cfg.Scope {
		if c == '_' || c == '-' || c == '.' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
			b.WriteRune(c)
		} else {
			b.WriteByte('_')
		}
	}
	return "dockyard-" + b.String() + "-" + name
}

// wrap turns a client error into an errdefs kind with what to do.
func (r *Runtime) wrap(what string, err error) error {
	if err == nil {
		return nil
	}
	msg := fmt.Sprintf("%s: %v", what, err)
	switch {
	case client.IsErrConnectionFailed(err):
		return errdefs.Unavailablef("%s: the Docker daemon at %s cannot be reached: %w", what, r.cli.DaemonHost(), err)
	case cerrdefs.IsNotFound(err):
		return errdefs.NotFound(msg)
	case cerrdefs.IsConflict(err):
		return errdefs.Conflict(msg)
	case cerrdefs.IsInvalidArgument(err):
		return errdefs.Invalid(msg)
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return fmt.Errorf("%s: %w", what, err)
	}
	return errdefs.Unavailable(msg)
}

func notFound(id string) error {
	return errdefs.NotFoundf("container %q not found", id)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// state files: StateDir/<id>.token and <id>.cert.pem.
func (r *Runtime) statePath(id, suffix string) string {
	return filepath.Join(r.cfg.StateDir, id+suffix)
}

func (r *Runtime) writeState(id string, token, certPEM []byte) error {
	if err := os.WriteFile(r.statePath(id, ".token"), token, 0o600); err != nil {
		return fmt.Errorf("container %s: keeping its token: %w", id, err)
	}
	if err := os.WriteFile(r.statePath(id, ".cert.pem"), certPEM, 0o600); err != nil {
		return fmt.Errorf("container %s: keeping its certificate: %w", id, err)
	}
	return nil
}

func (r *Runtime) removeState(id string) {
	os.Remove(r.statePath(id, ".token"))
	os.Remove(r.statePath(id, ".cert.pem"))
	r.mu.Lock()
	delete(r.tokens, id)
	r.mu.Unlock()
}
