package server

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/dockyard/dockyard/internal/api"
	"github.com/dockyard/dockyard/internal/audit"
	"github.com/dockyard/dockyard/internal/config"
	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/index"
)

// openAudit opens the keyed, hash-chained audit log: every state change
// and every refused request is recorded there and indexed into _internal.
// Its keys and the external checkpoints file live in DATA/audit/, outside
// the database; checkpoints are also forwarded to an HEC when configured.
func (s *Server) openAudit(ctx context.Context) error {
	host, _ := os.Hostname()
	fwd, err := checkpointForwarder(s.Config.Audit, host)
	if err != nil {
		return err
	}
	l, err := audit.Open(ctx, s.Store, audit.Options{
		KeyFile: filepath.Join(s.Config.Data, "audit", "ed25519.pem"),
		Forward: fwd,
		MaxText: s.Config.Audit.MaxTextBytes,
		Host:    host,
		Logger:  s.Log,
	})
	if err != nil {
		return err
	}
	s.AuditLog = l
	// An event that cannot be recorded fails the API request it belongs
	// to, also where a service only logs the error.
	s.Audit = api.FailRequests(l)
	return nil
}

// openEvents builds the event index service and mounts the HTTP Event
// Collector, which authenticates its own requests with HEC tokens.
func (s *Server) openEvents(ctx context.Context) error {
	host, _ := os.Hostname()
	s.Index = index.NewService(s.Store, index.Options{Logger: s.Log, Host: host})
	hec, err := index.NewHEC(s.Index, index.HECOptions{MaxBodyBytes: s.Config.HEC.MaxBodyBytes, Logger: s.Log, Audit: s.Audit,
		AckMaxIDs: s.Config.HEC.AckMaxIDs, AckChannelIdle: s.Config.HEC.AckChannelIdle})
	if err != nil {
		return err
	}
	s.HEC = hec
	s.API.Mounts["/services/collector/"] = hec
	s.API.Mounts["/services/collector"] = hec
	return nil
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
			return nil, errdefs.Invalid(fmt.Sprintf("audit.checkpoint_hec_ca_file: %v", err))
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, errdefs.Invalid(fmt.Sprintf("audit.checkpoint_hec_ca_file %s holds no PEM certificate", c.CheckpointHECCA))
		}
		tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	return &audit.HECForwarder{URL: c.CheckpointHECURL, Token: c.CheckpointHECToken, Host: host,
		Client: &http.Client{Transport: tr, Timeout: 10 * time.Second}}, nil
}
