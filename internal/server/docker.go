package server

import (
	"context"
	"crypto/tls"
	"fmt"
	"path/filepath"
	"time"

	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/runtime"
	"github.com/dockyard/dockyard/internal/runtime/docker"
)

// dockerPingTimeout bounds the check that the Docker daemon answers when
// the server opens.
const dockerPingTimeout = 5 * time.Second

// dockerRuntime builds the Docker runtime: the daemon from DOCKER_HOST (else
// the local socket), agents issued certificates by the server CA, tokens
// kept under DATA/docker, and containers scoped to this server's id, so a
// restarted server adopts its own containers and never sees another
// server's. Containers it creates require clientCert's CA (the server CA)
// for mutual TLS, and its readiness probe presents clientCert. It returns an error of kind errdefs.ErrUnavailable, saying why,
// when the daemon cannot be reached; the caller then runs without it.
func (s *Server) dockerRuntime(ctx context.Context, clientCert *tls.Certificate) (runtime.Runtime, error) {
	rt, err := docker.New(docker.Config{
		StateDir:     filepath.Join(s.Config.Data, "docker"),
		Issuer:       s.CA,
		Scope:        s.ID,
		CertTTL:      s.Config.Containers.AgentCertTTL,
		StartTimeout: s.Config.Containers.StartTimeout,
		RemoveGrace:  s.Config.Containers.StopGrace,
		Logger:       s.Log.With("runtime", "docker"),
		ClientCAPEM:  s.CA.CertPEM(),
		ClientCert:   clientCert,
		Limits: runtime.Limits{MemoryBytes: s.Config.Containers.Limits.MemoryBytes,
			MaxProcs: s.Config.Containers.Limits.MaxProcs, MaxOpenFiles: s.Config.Containers.Limits.MaxOpenFiles},
		LimitsSetting: "containers.limits",
	})
	if err != nil {
		return nil, fmt.Errorf("docker runtime: %w", err)
	}
	pctx, cancel := context.WithTimeout(ctx, dockerPingTimeout)
	defer cancel()
	if err := rt.Ping(pctx); err != nil {
		rt.Close()
		if !errdefs.IsUnavailable(err) {
			err = errdefs.Unavailable(err.Error())
		}
		return nil, err
	}
	s.closers = append(s.closers, rt.Close)
	return rt, nil
}
