package server

import (
	"context"
	"log/slog"
	"net/http"
	"sync"

	"github.com/dockyard/dockyard/internal/access"
	"github.com/dockyard/dockyard/internal/agent/agentclient"
	"github.com/dockyard/dockyard/internal/audit"
	"github.com/dockyard/dockyard/internal/config"
	"github.com/dockyard/dockyard/internal/containers"
	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/nbsync"
	"github.com/dockyard/dockyard/internal/notebooks"
	"github.com/dockyard/dockyard/internal/runtime"
	"github.com/dockyard/dockyard/internal/store"
)

// NotebookSyncer builds a notebook sync (internal/nbsync) over this
// server's containers, notebooks and runtimes, for code that drives sync
// passes itself (tests); the server runs its own.
func (s *Server) NotebookSyncer() (*nbsync.Syncer, error) {
	return newSyncer(s.runtimes, s.containers, s.notebooks, s.access, s.audit, s.log)
}

// newSyncer builds the notebook sync. It reaches the agents of
// runtime-managed containers the way the container service does (mutual
// TLS, the runtime's token) and never starts a container.
func newSyncer(rts runtimes, ctrs *containers.Service, nbs *notebooks.Service, acc *access.Service, rec audit.Recorder, log *slog.Logger) (*nbsync.Syncer, error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = rts.agentTLS()
	hc := &http.Client{Transport: tr}
	dial := func(ctx context.Context, c store.Container) (nbsync.Agent, error) {
		rt, ok := rts.byName[c.Runtime]
		if !ok {
			return nil, errdefs.Unavailablef("container %q: runtime %q is not available", c.Name, c.Runtime)
		}
		rc, err := rt.Inspect(ctx, c.RuntimeID)
		if err != nil {
			return nil, err
		}
		if rc.State != runtime.StateRunning || rc.Endpoint == "" {
			return nil, errdefs.Unavailablef("container %q is not running", c.Name)
		}
		return agentclient.New(rc.Endpoint, rc.Token, hc), nil
	}
	return nbsync.New(nbsync.Options{
		Containers: ctrs,
		Notebooks:  nbs,
		Principals: acc,
		Dial:       dial,
		Audit:      rec,
		Log:        log.With("component", "nbsync"),
	})
}

// runSync runs a sync pass of sy every containers.sync_interval (a
// non-positive interval turns it off) and follows the agents' change feeds,
// until the returned stop is called. While it runs, stopping or removing a
// container first stores its edits (the containers' final sync).
func runSync(cfg config.Config, sy *nbsync.Syncer, ctrs *containers.Service) (stop func() error) {
	interval := cfg.Containers.SyncInterval
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { sy.Run(ctx, interval) })
	if interval > 0 {
		// Push-based: each running container's agent says when its
		// files changed, and the server pulls them at once.
		if cfg.Containers.SyncWatchScan > 0 {
			wg.Go(func() { sy.Watch(ctx, cfg.Containers.SyncWatchScan) })
		}
		// stop and remove store a running container's edits first.
		ctrs.SetFinalSync(sy.Flush, cfg.Containers.FinalSyncTimeout)
	}
	return func() error { cancel(); wg.Wait(); return nil }
}
