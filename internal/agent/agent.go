// Package agent is the Dockyard agent: the HTTPS API that runs inside each
// container (or as a child process of the process runtime) and runs
// notebooks through a warm Python runner (internal/agent/runner).
//
// It serves the seed system's container API (POST /fit, POST /apply,
// GET /summary) with the same request and answer shapes, plus streaming
// endpoints for large data (/v1/fit/stream, /v1/apply/stream), notebook
// placement (/v1/notebooks/{name}) and model file transfer
// (/v1/model/files). Every endpoint but GET /healthz needs the bearer token.
// With --client-ca (Config.ClientCAFile) every connection, /healthz
// included, must also present a client certificate signed by that CA
// (mutual TLS); the runtimes start agents with the server CA there.
// docs/notebooks.md describes the notebook contract and the protocols.
//
// A container's root holds notebooks/ (the runner's working directory),
// notebooks/data/ (staged data) and app/model/data/ (MODEL_DIRECTORY).
package agent

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/dockyard/dockyard/internal/agent/runner"
	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/telemetry"
)

// Config configures an agent. Zero values mean: Python "python3", Pandas
// "auto", MaxBodyBytes 4 GiB, no client certificate required.
type Config struct {
	Addr         string       // listen address, such as 127.0.0.1:0; ignored when Listener is set
	Listener     net.Listener // optional: serve on this listener (TLS is added)
	CertFile     string       // server certificate (PEM)
	KeyFile      string       // its key (PEM)
	ClientCAFile string       // optional: require client certificates signed by this CA (mTLS)
	Token        string       // bearer token; or
	TokenFile    string       // a file holding it (used when Token is empty)
	Root         string       // the container root
	Python       string       // interpreter for the notebook runner
	Pandas       string       // auto, require or never
	MaxBodyBytes int64        // request body limit
	Logger       *slog.Logger
	// Tracing exports the agent's spans (each request, each runner call
	// and its steps), continuing the caller's W3C trace context; nil is
	// off, and an incoming trace context is then still passed on.
	Tracing *telemetry.Tracing
	// WatchQuiet and WatchScan tune the change feed (watch.go): how long
	// files must be quiet before a change counts, and how often the
	// watched directories are rescanned for missed events; 0 is the
	// default.
	WatchQuiet, WatchScan time.Duration
	// JupyterBaseURL, when set (/jupyter/OWNER/NAME/), makes this a
	// development container: the agent runs a Jupyter server under that
	// base URL and proxies it (jupyter.go). Jupyter names its program
	// (default: jupyter-lab, else jupyter-notebook, on PATH).
	JupyterBaseURL string
	Jupyter        string
}

// Paths under a container root.
const (
	NotebooksDir = "notebooks"
	DataDir      = "notebooks/data"
	ModelDir     = "app/model/data"
	stateDir     = ".dockyard"
)

// Agent serves one container's API.
type Agent struct {
	cfg       Config
	log       *slog.Logger
	tokenHash [32]byte
	root      string
	nbDir     string
	dataDir   string
	modelDir  string
	tmpDir    string
	runner    *lazyRunner
	jobMu     sync.Mutex // one fit or apply at a time, so a fit's manifest is its own
	changes   *changeFeed
	stopWatch context.CancelFunc
	started   time.Time
	jobs      jobActivity
	// jupyter is the development container's Jupyter server (nil: none,
	// for the reason jupyterWhy).
	jupyter    *jupyterServer
	jupyterWhy string
}

// New prepares the container root, starts the notebook runner (a failure
// to start it is logged and retried on each call) and returns the agent.
func New(ctx context.Context, cfg Config) (*Agent, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = 4 << 30
	}
	tok := cfg.Token
	if tok == "" && cfg.TokenFile != "" {
		b, err := os.ReadFile(cfg.TokenFile)
		if err != nil {
			return nil, fmt.Errorf("agent token file: %w", err)
		}
		tok = strings.TrimSpace(string(b))
	}
	if tok == "" {
		return nil, errdefs.Invalid("agent: no API token: pass --token-file or set DOCKYARD_AGENT_TOKEN")
	}
	if cfg.Root == "" {
		return nil, errdefs.Invalid("agent: no container root: pass --root DIR")
	}
	root, err := filepath.Abs(cfg.Root)
	if err != nil {
		return nil, fmt.Errorf("agent root: %w", err)
	}
	a := &Agent{cfg: cfg, log: cfg.Logger, tokenHash: sha256.Sum256([]byte(tok)), root: root,
		nbDir: filepath.Join(root, NotebooksDir), dataDir: filepath.Join(root, DataDir),
		modelDir: filepath.Join(root, ModelDir), tmpDir: filepath.Join(root, stateDir, "tmp"), started: time.Now().UTC()}
	for _, d := range []string{a.nbDir, a.dataDir, a.modelDir, a.tmpDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, fmt.Errorf("agent: creating %s: %w", d, err)
		}
	}
	a.changes = newChangeFeed(a.nbDir, a.modelDir, cfg.WatchQuiet, cfg.WatchScan)
	wctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	a.stopWatch = cancel
	go a.changes.run(wctx, a.log)
	a.runner = &lazyRunner{opts: runner.Options{Python: cfg.Python, NotebooksDir: a.nbDir, ModelDir: a.modelDir,
		ScriptDir: filepath.Join(root, stateDir), Pandas: cfg.Pandas, Logger: a.log}}
	if _, err := a.runner.get(ctx); err != nil {
		a.log.Warn("notebook runner did not start; it is retried on each call", "err", err)
	}
	a.jupyter, a.jupyterWhy = a.startJupyter(ctx)
	return a, nil
}

// RunnerPid returns the notebook runner's process id (0 when none runs).
func (a *Agent) RunnerPid() int { return a.runner.pid() }

// Close stops the notebook runner.
func (a *Agent) Close() error {
	a.stopWatch()
	if a.jupyter != nil {
		a.jupyter.close()
	}
	return a.runner.close()
}

// TLSConfig builds the server TLS configuration from cfg's files.
func TLSConfig(cfg Config) (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(cfg.CertFile, cfg.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("agent TLS certificate %s: %w", cfg.CertFile, err)
	}
	tc := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	if cfg.ClientCAFile != "" {
		pem, err := os.ReadFile(cfg.ClientCAFile)
		if err != nil {
			return nil, fmt.Errorf("agent client CA: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, errdefs.Invalidf("agent client CA %s holds no PEM certificate", cfg.ClientCAFile)
		}
		tc.ClientCAs = pool
		tc.ClientAuth = tls.RequireAndVerifyClientCert
	}
	return tc, nil
}

// Run serves the agent over HTTPS until ctx ends.
func Run(ctx context.Context, cfg Config) error {
	tc, err := TLSConfig(cfg)
	if err != nil {
		return err
	}
	// Listen first: the port is taken before the runner's slower start.
	ln := cfg.Listener
	if ln == nil {
		if ln, err = net.Listen("tcp", cfg.Addr); err != nil {
			return fmt.Errorf("agent: listen on %s: %w", cfg.Addr, err)
		}
	}
	a, err := New(ctx, cfg)
	if err != nil {
		ln.Close()
		return err
	}
	defer a.Close()
	srv := &http.Server{Handler: a.Handler(), TLSConfig: tc, ReadHeaderTimeout: 30 * time.Second,
		ErrorLog: slog.NewLogLogger(a.log.Handler(), slog.LevelWarn)}
	errc := make(chan error, 1)
	go func() { errc <- srv.ServeTLS(ln, "", "") }()
	a.log.Info("agent listening", "addr", ln.Addr().String(), "root", a.root)
	select {
	case err := <-errc:
		return fmt.Errorf("agent: %w", err)
	case <-ctx.Done():
	}
	// Stop the notebook first: a call in progress cannot finish once the
	// agent stops, and its request then answers with an error at once
	// instead of holding the shutdown (and the runner) until a kill.
	a.Close()
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("agent shutdown: %w", err)
	}
	return nil
}
