package server

import (
	"context"
	"crypto/tls"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/dockyard/dockyard/internal/api"
	"github.com/dockyard/dockyard/internal/config"
	"github.com/dockyard/dockyard/internal/containers"
)

// newJupyter builds the proxy of development containers' Jupyter servers
// (/jupyter/OWNER/NAME/, internal/api/jupyter.go), which reaches their
// agents over the channel the server already authenticates (the server
// CA, its client certificate, the agent's token).
func newJupyter(rts runtimes, ctrs *containers.Service, a *api.API) []api.Route {
	tr := &http.Transport{
		TLSClientConfig: rts.agentTLS(),
		// HTTP/1.1 only: a WebSocket upgrade does not pass HTTP/2.
		TLSNextProto:          map[string]func(string, *tls.Conn) http.RoundTripper{},
		MaxIdleConnsPerHost:   8,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: 5 * time.Minute,
	}
	return (&api.JupyterAPI{API: a, Containers: ctrs, Transport: tr}).Routes()
}

// runCuller stops idle development containers (containers.idle_timeout;
// 0 turns it off) until the returned stop is called. It looks every
// quarter of the timeout, at least every minute and at most every second.
func runCuller(cfg config.Config, ctrs *containers.Service, log *slog.Logger) (stop func() error) {
	timeout := cfg.Containers.IdleTimeout
	if timeout <= 0 {
		return func() error { return nil }
	}
	every := min(max(timeout/4, time.Second), time.Minute)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			rep, err := ctrs.CullIdle(ctx, timeout)
			if err != nil {
				log.Warn("idle culling", "err", err)
			}
			for _, f := range rep.Failed {
				log.Warn("idle development container not stopped", "reason", f)
			}
		}
	})
	return func() error { cancel(); wg.Wait(); return nil }
}
