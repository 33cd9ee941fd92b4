package server

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"

	"github.com/dockyard/dockyard/internal/access"
	"github.com/dockyard/dockyard/internal/api"
	"github.com/dockyard/dockyard/internal/audit"
	"github.com/dockyard/dockyard/internal/config"
	"github.com/dockyard/dockyard/internal/containers"
	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/index"
	"github.com/dockyard/dockyard/internal/notebooks"
	"github.com/dockyard/dockyard/internal/pki"
	"github.com/dockyard/dockyard/internal/runtime"
	"github.com/dockyard/dockyard/internal/runtime/process"
	"github.com/dockyard/dockyard/internal/secrets"
	"github.com/dockyard/dockyard/internal/store"
)

// agentClientCert loads the server's client certificate for the agents
// from DATA/pki, issuing it (CN "dockyard-server ID", valid for
// tls.server_cert_ttl) on first start and again when it has less than 30
// days left or the CA changed.
//
// The server and the agents it starts authenticate each other (mutual
// TLS): the agents' certificates are issued by the server CA, and the
// server presents this certificate (issued by the same CA) to every agent,
// which requires it (--client-ca) besides its bearer token.
func agentClientCert(cfg config.Config, ca *pki.CA, serverID string, log *slog.Logger) (tls.Certificate, error) {
	dir := filepath.Join(cfg.Data, "pki")
	cert, issued, err := pki.LoadOrCreateClientCert(dir, ca, "dockyard-server "+serverID, cfg.TLS.ServerCertTTL)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("the server's client certificate for its containers: %w", err)
	}
	if issued {
		log.Info("issued the server's client certificate for its containers", "file", filepath.Join(dir, pki.ClientCertFile))
	}
	return cert, nil
}

// runtimes are the container backends by name, with the CA and client
// certificate through which the server reaches their agents.
type runtimes struct {
	byName     map[string]runtime.Runtime
	ca         *pki.CA
	clientCert tls.Certificate
	// certs are the operator certificates agents may serve (nil: none).
	certs *pki.AgentCerts
}

// agentTLS verifies the agents (the server CA) and presents the server's
// client certificate. Agents started without --client-ca (by an older
// server, adopted at start) ignore the certificate they did not ask for.
func (r runtimes) agentTLS() *tls.Config {
	return withOperatorRoots(pki.MutualTLSClientConfig(r.ca, r.clientCert), r.certs)
}

// openRuntimes builds the process runtime (agents issued certificates by
// the server CA, under DATA/containers), the Docker runtime when its daemon
// answers, and the Kubernetes runtime when containers.kubernetes names a
// cluster. The caller closes them with the returned closer.
func openRuntimes(ctx context.Context, cfg config.Config, serverID string, ca *pki.CA, clientCert tls.Certificate, log *slog.Logger) (runtimes, func() error, error) {
	rts := runtimes{byName: map[string]runtime.Runtime{}, ca: ca, clientCert: clientCert}
	certs, err := openAgentCerts(cfg)
	if err != nil {
		return rts, nil, err
	}
	rts.certs = certs
	proc, err := process.New(process.Config{
		BaseDir:       filepath.Join(cfg.Data, "containers"),
		Issuer:        ca,
		Command:       agentCommand(cfg, log),
		CertTTL:       cfg.Containers.AgentCertTTL,
		StartTimeout:  cfg.Containers.StartTimeout,
		RemoveGrace:   cfg.Containers.StopGrace,
		Python:        cfg.Containers.Python,
		Logger:        log.With("runtime", "process"),
		ClientCAPEM:   ca.CertPEM(),
		ClientCert:    &rts.clientCert,
		Sandbox:       cfg.Containers.Process.Sandbox,
		Bwrap:         cfg.Containers.Process.Bwrap,
		Limits:        containerLimits(cfg),
		LimitsSetting: "containers.limits",
	})
	if err != nil {
		return rts, nil, err
	}
	if ok, why := proc.Isolated(); ok {
		log.Info("the process runtime sandboxes its containers with bubblewrap", "sandbox", cfg.Containers.Process.Sandbox, "bwrap", cfg.Containers.Process.Bwrap)
	} else {
		log.Warn("the process runtime is NOT sandboxed: only administrators may run containers there", "sandbox", cfg.Containers.Process.Sandbox, "reason", why)
	}
	rts.byName["process"] = proc
	closer := func() error { return nil }
	if drt, err := dockerRuntime(ctx, cfg, serverID, ca, &rts.clientCert, log); err != nil {
		if cfg.Containers.Runtime == "docker" {
			return rts, nil, err
		}
		log.Info("the docker runtime is not available", "err", err)
	} else {
		rts.byName["docker"] = drt
		closer = drt.Close
	}
	krt, err := kubeRuntime(ctx, cfg, serverID, ca, &rts.clientCert, log)
	switch {
	case err != nil && (cfg.Containers.Runtime == "kubernetes" || !errdefs.IsUnavailable(err)):
		_ = closer()
		return rts, nil, err
	case err != nil:
		log.Warn("the kubernetes runtime is not available", "err", err)
	case krt != nil:
		rts.byName["kubernetes"] = krt
		closeDocker := closer
		closer = func() error { krt.Close(); return closeDocker() }
	}
	return rts, closer, nil
}

// containerLimits are the resource limits of every container.
func containerLimits(cfg config.Config) runtime.Limits {
	return runtime.Limits{MemoryBytes: cfg.Containers.Limits.MemoryBytes,
		MaxProcs: cfg.Containers.Limits.MaxProcs, MaxOpenFiles: cfg.Containers.Limits.MaxOpenFiles}
}

// newContainers builds the container service and its routes, and runs the
// reconcile pass that adopts this server's containers. Their agents get
// the trace exporter's environment of obs and, when containers.hec_tokens
// is on, HEC tokens for the indexes of ix. Starts with GPUs are checked
// against quotas.
func newContainers(ctx context.Context, cfg config.Config, serverID string, ep *endpoint, rts runtimes,
	pin func(context.Context, string) (containers.PinnedImage, error), st store.Store, box *secrets.Box, nbs *notebooks.Service, acc *access.Service, quotas containers.GPUQuotas, rec audit.Recorder,
	ix *index.Service, obs observability, log *slog.Logger, a *api.API) (*containers.Service, []api.Route, error) {
	dockerGPUs, err := config.ParseGPUDevices(cfg.Containers.GPU.DockerDevices)
	if err != nil {
		return nil, nil, errdefs.Invalidf("containers.gpu.docker_devices: %w", err)
	}
	svc, err := containers.New(containers.Options{
		Store:          st,
		Runtimes:       rts.byName,
		DefaultRuntime: cfg.Containers.Runtime,
		DefaultImage:   cfg.Containers.DefaultImage,
		PinImage:       pin,
		ServerID:       serverID,
		AgentTLS:       rts.agentTLS(),
		Secrets:        box,
		Notebooks:      nbs,
		Audit:          rec,
		Log:            log.With("component", "containers"),
		StopGrace:      cfg.Containers.StopGrace,
		AgentEnv:       obs.agentEnv,
		HEC:            containerHEC{index: ix, events: st},
		HECURL:         ep.url() + "/services/collector",
		HECCAFile:      ep.hecCAFile(cfg),
		Principals:     acc,
		Roles:          acc,
		HECTokens:      cfg.Containers.HECTokens,
		Jupyter:        containers.JupyterOptions{Enabled: cfg.Containers.Jupyter.Enabled, Program: cfg.Containers.Jupyter.Program},
		Certs:          certSource(rts.certs),
		CertHosts:      agentCertHosts(),
		GPUQuotas:      quotas,
		GPUDevices:     map[string][]string{"docker": dockerGPUs},
	})
	if err != nil {
		return nil, nil, err
	}
	rep, err := svc.Reconcile(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("reconciling containers: %w", err)
	}
	if len(rep.Adopted)+len(rep.Lost)+len(rep.Quarantined) > 0 {
		log.Info("containers reconciled", "adopted", rep.Adopted, "lost", rep.Lost, "quarantined", rep.Quarantined)
	}
	c := &api.ContainersAPI{API: a, Containers: svc}
	return svc, c.Routes(), nil
}

// runReconciler reconciles the containers every containers.reconcile_interval
// (0 turns it off) until the returned stop is called.
func runReconciler(cfg config.Config, svc *containers.Service) (stop func() error) {
	iv := cfg.Containers.ReconcileInterval
	if iv <= 0 {
		return func() error { return nil }
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); svc.RunReconciler(ctx, iv) }()
	return func() error { cancel(); <-done; return nil }
}

// agentCommand is how the process runtime starts an agent: the configured
// program, else this binary, as `PROGRAM agent ...`.
//
// A Go test binary is not a dockyard binary: run as an agent it would run
// its whole test suite again (and start agents of its own). Test binaries
// that can act as the agent say so by handling DOCKYARD_TEST_MAIN=1 in
// their TestMain and setting it (see containers_test.go); any other test
// binary is run with no tests selected, so the start fails quickly instead.
func agentCommand(cfg config.Config, log *slog.Logger) func(args []string) *exec.Cmd {
	return func(args []string) *exec.Cmd {
		prog := agentExecutable(cfg)
		if cfg.Containers.AgentCommand == "" && strings.HasSuffix(prog, ".test") && os.Getenv("DOCKYARD_TEST_MAIN") != "1" {
			log.Error("this test binary cannot run `dockyard agent`: give its package a TestMain that runs cli.Main when DOCKYARD_TEST_MAIN=1, or set containers.agent_command")
			return exec.Command(prog, "-test.run=^$", "-test.count=1")
		}
		cmd := exec.Command(prog, args...)
		if cfg.Containers.AgentCommand == "" && strings.HasSuffix(prog, ".test") {
			// The agent's environment is an allow-list: the test hook
			// must be passed on explicitly.
			cmd.Env = []string{"DOCKYARD_TEST_MAIN=1"}
		}
		return cmd
	}
}

// agentExecutable is the program the process runtime runs as the agent.
func agentExecutable(cfg config.Config) string {
	if cfg.Containers.AgentCommand != "" {
		return cfg.Containers.AgentCommand
	}
	self, err := os.Executable()
	if err != nil {
		return os.Args[0]
	}
	return self
}

// containerHEC issues the containers' HEC tokens through the event index
// service.
type containerHEC struct {
	index  *index.Service
	events store.EventStore
}

// CreateHECToken replaces the token name with one for those of indexes
// that exist ("*" for all but _internal); main is its default index when
// it may write there.
func (h containerHEC) CreateHECToken(ctx context.Context, name string, indexes []string) (string, string, error) {
	ix := h.index
	all, err := h.events.ListIndexes(ctx)
	if err != nil {
		return "", "", err
	}
	var keep []string
	for _, want := range indexes {
		if want == "*" || slices.ContainsFunc(all, func(i store.IndexInfo) bool { return i.Name == want }) {
			keep = append(keep, want)
		}
	}
	if len(keep) == 0 {
		return "", "", errdefs.NotFoundf("none of the owner's indexes %v exists", indexes)
	}
	def := ""
	if slices.Contains(keep, index.Main) || slices.Contains(keep, "*") {
		def = index.Main
	}
	if err := ix.DeleteHECToken(ctx, name); err != nil && !errdefs.IsNotFound(err) {
		return "", "", err
	}
	tok, err := ix.CreateHECToken(ctx, name, keep, def)
	if err != nil {
		return "", "", err
	}
	return tok.Token, tok.DefaultIndex, nil
}

// DeleteHECToken deletes the token name.
func (h containerHEC) DeleteHECToken(ctx context.Context, name string) error {
	return h.index.DeleteHECToken(ctx, name)
}

// ProcessSandbox reports whether the process runtime sandboxes its
// containers and, when not, why (naming the package and the setting).
func (s *Server) ProcessSandbox() (bool, string) {
	rt, ok := s.runtimes.byName["process"]
	if !ok {
		return false, "the process runtime is not open"
	}
	return runtime.IsIsolated(rt)
}
