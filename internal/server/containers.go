package server

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/dockyard/dockyard/internal/api"
	"github.com/dockyard/dockyard/internal/containers"
	"github.com/dockyard/dockyard/internal/pki"
	"github.com/dockyard/dockyard/internal/runtime"
	"github.com/dockyard/dockyard/internal/runtime/process"
)

// openContainers builds the process runtime (agents issued certificates by
// the server CA, under DATA/containers), the container service, its API
// routes, and runs the reconcile pass that adopts this server's containers.
func (s *Server) openContainers(ctx context.Context) error {
	if err := s.openNotebooks(ctx); err != nil {
		return err
	}
	proc, err := process.New(process.Config{
		BaseDir: filepath.Join(s.Config.Data, "containers"),
		Issuer:  s.CA,
		Command: s.agentCommand(),
		Python:  s.Config.Containers.Python,
		Logger:  s.Log.With("runtime", "process"),
	})
	if err != nil {
		return err
	}
	agentTLS, err := pki.ClientTLSConfigPEM("the server CA", s.CA.CertPEM())
	if err != nil {
		return err
	}
	s.Containers, err = containers.New(containers.Options{
		Store:          s.Store,
		Runtimes:       map[string]runtime.Runtime{"process": proc},
		DefaultRuntime: s.Config.Containers.Runtime,
		DefaultImage:   s.Config.Containers.DefaultImage,
		ServerID:       s.ID,
		AgentTLS:       agentTLS,
		Secrets:        s.Secrets,
		Notebooks:      s.Notebooks,
		Audit:          s.Audit,
		Log:            s.Log.With("component", "containers"),
		StopGrace:      s.Config.Containers.StopGrace,
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
	c := &api.ContainersAPI{API: s.API, Containers: s.Containers}
	s.API.Extra = append(s.API.Extra, c.Routes()...)
	return nil
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
		return exec.Command(prog, args...)
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
