package server

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/dockyard/dockyard/internal/agent/agentclient"
	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/nbsync"
	"github.com/dockyard/dockyard/internal/pki"
	"github.com/dockyard/dockyard/internal/runtime"
	"github.com/dockyard/dockyard/internal/store"
)

// NotebookSyncer builds the notebook sync (internal/nbsync) over this
// server's containers, notebooks and runtimes. It reaches the agents of
// runtime-managed containers the way the container service does (mutual
// TLS, the runtime's token) and never starts a container.
func (s *Server) NotebookSyncer() (*nbsync.Syncer, error) {
	if s.Containers == nil || s.Notebooks == nil {
		return nil, errdefs.Unavailable("notebook sync needs the container and notebook services")
	}
	clientCert, err := s.agentClientCert()
	if err != nil {
		return nil, err
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = pki.MutualTLSClientConfig(s.CA, clientCert)
	hc := &http.Client{Transport: tr}
	runtimes := s.runtimes
	dial := func(ctx context.Context, c store.Container) (nbsync.Agent, error) {
		rt, ok := runtimes[c.Runtime]
		if !ok {
			return nil, errdefs.Unavailable(fmt.Sprintf("container %q: runtime %q is not available", c.Name, c.Runtime))
		}
		rc, err := rt.Inspect(ctx, c.RuntimeID)
		if err != nil {
			return nil, err
		}
		if rc.State != runtime.StateRunning || rc.Endpoint == "" {
			return nil, errdefs.Unavailable(fmt.Sprintf("container %q is not running", c.Name))
		}
		return agentclient.New(rc.Endpoint, rc.Token, hc), nil
	}
	return nbsync.New(nbsync.Options{
		Containers: s.Containers,
		Notebooks:  s.Notebooks,
		Principals: s.Access,
		Dial:       dial,
		Audit:      s.Audit,
		Log:        s.Log.With("component", "nbsync"),
	})
}

// openSync builds the notebook sync and runs a pass every interval (a
// non-positive interval turns it off) until the server is closed. It is
// called by New after openContainers; the syncer is returned for
// Server.Sync.
func (s *Server) openSync(_ context.Context, interval time.Duration) (*nbsync.Syncer, error) {
	sy, err := s.NotebookSyncer()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { sy.Run(ctx, interval) })
	if interval > 0 {
		// Push-based: each running container's agent says when its
		// files changed, and the server pulls them at once.
		if s.Config.Containers.SyncWatchScan > 0 {
			wg.Go(func() { sy.Watch(ctx, s.Config.Containers.SyncWatchScan) })
		}
		// stop and remove store a running container's edits first.
		s.Containers.SetFinalSync(sy.Flush, s.Config.Containers.FinalSyncTimeout)
	}
	s.closers = append(s.closers, func() error { cancel(); wg.Wait(); return nil })
	return sy, nil
}
