package server

import (
	"context"
	"crypto/tls"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"

	"github.com/dockyard/dockyard/internal/api"
	"github.com/dockyard/dockyard/internal/containers"
	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/index"
	"github.com/dockyard/dockyard/internal/pki"
	"github.com/dockyard/dockyard/internal/runtime"
	"github.com/dockyard/dockyard/internal/runtime/process"
	"github.com/dockyard/dockyard/internal/store"
)

// openContainers builds the process runtime (agents issued certificates by
// the server CA, under DATA/containers), the container service, its API
// routes, and runs the reconcile pass that adopts this server's containers.
//
// The server and the agents it starts authenticate each other (mutual
// TLS): the agents' certificates are issued by the server CA, and the
// server presents its client certificate (DATA/pki/client.pem, issued by
// the same CA) to every agent, which requires it (--client-ca) besides
// its bearer token.
func (s *Server) openContainers(ctx context.Context) error {
	if err := s.openNotebooks(ctx); err != nil {
		return err
	}
	clientCert, err := s.agentClientCert()
	if err != nil {
		return err
	}
	proc, err := process.New(process.Config{
		BaseDir:      filepath.Join(s.Config.Data, "containers"),
		Issuer:       s.CA,
		Command:      s.agentCommand(),
		CertTTL:      s.Config.Containers.AgentCertTTL,
		StartTimeout: s.Config.Containers.StartTimeout,
		RemoveGrace:  s.Config.Containers.StopGrace,
		Python:       s.Config.Containers.Python,
		Logger:       s.Log.With("runtime", "process"),
		ClientCAPEM:  s.CA.CertPEM(),
		ClientCert:   &clientCert,
		Sandbox:      s.Config.Containers.Process.Sandbox,
		Bwrap:        s.Config.Containers.Process.Bwrap,
		Limits: runtime.Limits{MemoryBytes: s.Config.Containers.Limits.MemoryBytes,
			MaxProcs: s.Config.Containers.Limits.MaxProcs, MaxOpenFiles: s.Config.Containers.Limits.MaxOpenFiles},
		LimitsSetting: "containers.limits",
	})
	if err != nil {
		return err
	}
	if ok, why := proc.Isolated(); ok {
		s.Log.Info("the process runtime sandboxes its containers with bubblewrap", "sandbox", s.Config.Containers.Process.Sandbox, "bwrap", s.Config.Containers.Process.Bwrap)
	} else {
		s.Log.Warn("the process runtime is NOT sandboxed: only administrators may run containers there", "sandbox", s.Config.Containers.Process.Sandbox, "reason", why)
	}
	runtimes := map[string]runtime.Runtime{"process": proc}
	if drt, err := s.dockerRuntime(ctx, &clientCert); err != nil {
		if s.Config.Containers.Runtime == "docker" {
			return err
		}
		s.Log.Info("the docker runtime is not available", "err", err)
	} else {
		runtimes["docker"] = drt
	}
	s.runtimes = runtimes
	// Agents started without --client-ca (by an older server, adopted
	// below) ignore the certificate they did not ask for.
	agentTLS := pki.MutualTLSClientConfig(s.CA, clientCert)
	s.Containers, err = containers.New(containers.Options{
		Store:          s.Store,
		Runtimes:       runtimes,
		DefaultRuntime: s.Config.Containers.Runtime,
		DefaultImage:   s.Config.Containers.DefaultImage,
		PinImage:       s.pinImage,
		ServerID:       s.ID,
		AgentTLS:       agentTLS,
		Secrets:        s.Secrets,
		Notebooks:      s.Notebooks,
		Audit:          s.Audit,
		Log:            s.Log.With("component", "containers"),
		StopGrace:      s.Config.Containers.StopGrace,
		AgentEnv:       s.agentTraceEnv,
		HEC:            containerHEC{s},
		HECURL:         s.URL() + "/services/collector",
		HECCAFile:      s.hecCAFile(),
		Principals:     s.Access,
		Roles:          s.Access,
		HECTokens:      s.Config.Containers.HECTokens,
	})
	if err != nil {
		return err
	}
	rep, err := s.Containers.Reconcile(ctx)
	if err != nil {
		return fmt.Errorf("reconciling containers: %w", err)
	}
	if len(rep.Adopted)+len(rep.Lost)+len(rep.Quarantined) > 0 {
		s.Log.Info("containers reconciled", "adopted", rep.Adopted, "lost", rep.Lost, "quarantined", rep.Quarantined)
	}
	if iv := s.Config.Containers.ReconcileInterval; iv > 0 {
		rctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); s.Containers.RunReconciler(rctx, iv) }()
		s.closers = append(s.closers, func() error { cancel(); <-done; return nil })
	}
	c := &api.ContainersAPI{API: s.API, Containers: s.Containers}
	s.API.Extra = append(s.API.Extra, c.Routes()...)
	return nil
}

// agentClientCert loads the server's client certificate for the agents
// from DATA/pki, issuing it (CN "dockyard-server ID", valid for
// tls.server_cert_ttl) on first start and again when it has less than 30
// days left or the CA changed.
func (s *Server) agentClientCert() (tls.Certificate, error) {
	dir := filepath.Join(s.Config.Data, "pki")
	cert, issued, err := pki.LoadOrCreateClientCert(dir, s.CA, "dockyard-server "+s.ID, s.Config.TLS.ServerCertTTL)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("the server's client certificate for its containers: %w", err)
	}
	if issued {
		s.Log.Info("issued the server's client certificate for its containers", "file", filepath.Join(dir, pki.ClientCertFile))
	}
	return cert, nil
}

// agentCommand is how the process runtime starts an agent: the configured
// program, else this binary, as `PROGRAM agent ...`.
//
// A Go test binary is not a dockyard binary: run as an agent it would run
// its whole test suite again (and start agents of its own). Test binaries
// that can act as the agent say so by handling DOCKYARD_TEST_MAIN=1 in
// their TestMain and setting it (see containers_test.go); any other test
// binary is run with no tests selected, so the start fails quickly instead.
func (s *Server) agentCommand() func(args []string) *exec.Cmd {
	return func(args []string) *exec.Cmd {
		prog := s.agentExecutable()
		if s.Config.Containers.AgentCommand == "" && strings.HasSuffix(prog, ".test") && os.Getenv("DOCKYARD_TEST_MAIN") != "1" {
			s.Log.Error("this test binary cannot run `dockyard agent`: give its package a TestMain that runs cli.Main when DOCKYARD_TEST_MAIN=1, or set containers.agent_command")
			return exec.Command(prog, "-test.run=^$", "-test.count=1")
		}
		cmd := exec.Command(prog, args...)
		if s.Config.Containers.AgentCommand == "" && strings.HasSuffix(prog, ".test") {
			// The agent's environment is an allow-list: the test hook
			// must be passed on explicitly.
			cmd.Env = []string{"DOCKYARD_TEST_MAIN=1"}
		}
		return cmd
	}
}

// agentExecutable is the program the process runtime runs as the agent.
func (s *Server) agentExecutable() string {
	if s.Config.Containers.AgentCommand != "" {
		return s.Config.Containers.AgentCommand
	}
	self, err := os.Executable()
	if err != nil {
		return os.Args[0]
	}
	return self
}

// hecCAFile is the CA file that verifies the server's own certificate, for
// notebooks that send events to its collector; "" when an operator's
// certificate (verified by the system's roots) is served.
func (s *Server) hecCAFile() string {
	if s.Config.TLS.CertFile != "" {
		return ""
	}
	return s.caFile
}

// containerHEC issues the containers' HEC tokens through the event index
// service, which is opened after the containers (so it is read at call
// time).
type containerHEC struct{ s *Server }

// CreateHECToken replaces the token name with one for those of indexes
// that exist ("*" for all but _internal); main is its default index when
// it may write there.
func (h containerHEC) CreateHECToken(ctx context.Context, name string, indexes []string) (string, string, error) {
	ix := h.s.Index
	if ix == nil {
		return "", "", errdefs.Unavailable("the event index service is not open")
	}
	all, err := h.s.Store.ListIndexes(ctx)
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
		return "", "", errdefs.NotFound(fmt.Sprintf("none of the owner's indexes %v exists", indexes))
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
	if h.s.Index == nil {
		return errdefs.Unavailable("the event index service is not open")
	}
	return h.s.Index.DeleteHECToken(ctx, name)
}

// ProcessSandbox reports whether the process runtime sandboxes its
// containers and, when not, why (naming the package and the setting).
func (s *Server) ProcessSandbox() (bool, string) {
	rt, ok := s.runtimes["process"]
	if !ok {
		return false, "the process runtime is not open"
	}
	return runtime.IsIsolated(rt)
}
