package server

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/dockyard/dockyard/internal/config"
	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/pki"
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
// for mutual TLS, and its readiness probe presents clientCert. It returns an
// error of kind errdefs.ErrUnavailable, saying why, when the daemon cannot
// be reached; the caller then runs without it, and otherwise closes it.
func dockerRuntime(ctx context.Context, cfg config.Config, serverID string, ca *pki.CA, clientCert *tls.Certificate, log *slog.Logger) (*docker.Runtime, error) {
	devices, err := config.ParseGPUDevices(cfg.Containers.GPU.DockerDevices)
	if err != nil {
		return nil, errdefs.Invalidf("containers.gpu.docker_devices: %w", err)
	}
	rt, err := docker.New(docker.Config{
		StateDir:      filepath.Join(cfg.Data, "docker"),
		Issuer:        ca,
		Scope:         serverID,
		CertTTL:       cfg.Containers.AgentCertTTL,
		StartTimeout:  cfg.Containers.StartTimeout,
		RemoveGrace:   cfg.Containers.StopGrace,
		Logger:        log.With("runtime", "docker"),
		ClientCAPEM:   ca.CertPEM(),
		ClientCert:    clientCert,
		Limits:        containerLimits(cfg),
		LimitsSetting: "containers.limits",
		GPUDevices:    devices,
	})
	if err != nil {
		return nil, fmt.Errorf("docker runtime: %w", err)
	}
	pctx, cancel := context.WithTimeout(ctx, dockerPingTimeout)
	defer cancel()
	if err := rt.Ping(pctx); err != nil {
		rt.Close()
		if !errdefs.IsUnavailable(err) {
			err = errdefs.Unavailablef("%w", err)
		}
		return nil, err
	}
	return rt, nil
}
