package server

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/dockyard/dockyard/internal/api"
	"github.com/dockyard/dockyard/internal/audit"
	"github.com/dockyard/dockyard/internal/config"
	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/index"
	"github.com/dockyard/dockyard/internal/store"
)

// openAudit opens the keyed, hash-chained audit log: every state change
// and every refused request is recorded there and indexed into _internal.
// Its keys and the external checkpoints file live in DATA/audit/, outside
// the database; checkpoints are also forwarded to an HEC when configured.
func openAudit(ctx context.Context, cfg config.Config, st store.AuditStore, log *slog.Logger) (*audit.Log, error) {
	host, _ := os.Hostname()
	fwd, err := checkpointForwarder(cfg.Audit, host)
	if err != nil {
		return nil, err
	}
	return audit.Open(ctx, st, audit.Options{
		KeyFile: filepath.Join(cfg.Data, "audit", "ed25519.pem"),
		Forward: fwd,
		MaxText: cfg.Audit.MaxTextBytes,
		Host:    host,
		Logger:  log,
	})
}

// newEvents builds the event index service, the HTTP Event Collector
// (which authenticates its own requests with HEC tokens, so the caller
// mounts it beside the routes) and the routes of the audit trail, HEC
// tokens and event indexes.
func newEvents(cfg config.Config, st store.EventStore, rec audit.Recorder, chain *audit.Log, log *slog.Logger, a *api.API) (*index.Service, *index.HEC, []api.Route, error) {
	host, _ := os.Hostname()
	ix := index.NewService(st, index.Options{Logger: log, Host: host})
	hec, err := index.NewHEC(ix, index.HECOptions{MaxBodyBytes: cfg.HEC.MaxBodyBytes, Logger: log, Audit: rec,
		AckMaxIDs: cfg.HEC.AckMaxIDs, AckChannelIdle: cfg.HEC.AckChannelIdle})
	if err != nil {
		return nil, nil, nil, err
	}
	e := &api.EventsAPI{API: a, Index: ix, Chain: chain}
	return ix, hec, e.Routes(), nil
}

// checkpointForwarder builds the HEC client of audit.checkpoint_hec_url, or
// nil when none is configured.
func checkpointForwarder(c config.Audit, host string) (*audit.HECForwarder, error) {
	if c.CheckpointHECURL == "" {
		return nil, nil
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if c.CheckpointHECCA != "" {
		pem, err := os.ReadFile(c.CheckpointHECCA)
		if err != nil {
			return nil, errdefs.Invalidf("audit.checkpoint_hec_ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, errdefs.Invalidf("audit.checkpoint_hec_ca_file %s holds no PEM certificate", c.CheckpointHECCA)
		}
		tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	return &audit.HECForwarder{URL: c.CheckpointHECURL, Token: c.CheckpointHECToken, Host: host,
		Client: &http.Client{Transport: tr, Timeout: 10 * time.Second}}, nil
}
