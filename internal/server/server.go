// Package server wires Dockyard together from its configuration: the
// store, the blob store, the CA and certificates, the access service and the
// API, served over HTTPS with a graceful shutdown.
package server

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/dockyard/dockyard/internal/access"
	"github.com/dockyard/dockyard/internal/api"
	"github.com/dockyard/dockyard/internal/audit"
	"github.com/dockyard/dockyard/internal/blob"
	blobfs "github.com/dockyard/dockyard/internal/blob/fs"
	"github.com/dockyard/dockyard/internal/config"
	"github.com/dockyard/dockyard/internal/containers"
	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/images"
	"github.com/dockyard/dockyard/internal/index"
	"github.com/dockyard/dockyard/internal/lookups"
	"github.com/dockyard/dockyard/internal/maintenance"
	"github.com/dockyard/dockyard/internal/models"
	"github.com/dockyard/dockyard/internal/nbsync"
	"github.com/dockyard/dockyard/internal/notebooks"
	"github.com/dockyard/dockyard/internal/pki"
	"github.com/dockyard/dockyard/internal/runtime"
	"github.com/dockyard/dockyard/internal/search"
	"github.com/dockyard/dockyard/internal/secrets"
	"github.com/dockyard/dockyard/internal/store"
	"github.com/dockyard/dockyard/internal/store/sqlite"
	"github.com/dockyard/dockyard/internal/telemetry"
)

// Server is a running Dockyard control plane.
type Server struct {
	Config config.Config
	Log    *slog.Logger
	ID     string

	Store  *sqlite.DB
	Blobs  blob.Store
	CA     *pki.CA
	Access *access.Service
	Audit  audit.Recorder
	API    *api.API

	AuditLog *audit.Log
	Secrets  *secrets.Box
	Index    *index.Service
	HEC      *index.HEC

	Metrics       *telemetry.Metrics
	Tracing       *telemetry.Tracing
	Observability *telemetry.Observability

	Models     *models.Registry
	Containers *containers.Service
	Images     *images.Catalogue
	Sync       *nbsync.Syncer
	Notebooks  *notebooks.Service
	// Maintenance garbage-collects blobs and takes backups.
	Maintenance *maintenance.Service

	// Lookups keeps CSV lookup tables (openSearch).
	Lookups *lookups.Service
	// SearchML runs fit, apply, summary, listmodels and deletemodel in
	// searches; nil makes them fail. Read per search: set it before Serve.
	SearchML search.ML

	runtimes    map[string]runtime.Runtime // the container backends, by name
	ln          net.Listener
	http        *http.Server
	caFile      string
	fingerprint string
	closers     []func() error
}

// Options are what the caller adds to the configuration.
type Options struct {
	// Out receives the messages an operator must see once: the CA
	// fingerprint and a generated admin password.
	Out io.Writer
	// AdminPassword overrides DOCKYARD_ADMIN_PASSWORD for the first start.
	AdminPassword string
}

// New opens (or creates) everything under the data dir and listens on the
// configured address. Serve starts answering.
func New(ctx context.Context, cfg config.Config, log *slog.Logger, opts Options) (_ *Server, err error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if opts.Out == nil {
		opts.Out = io.Discard
	}
	// Everything under the data dir is handed to child processes (agents)
	// that run in directories of their own: the path must be absolute.
	abs, err := filepath.Abs(cfg.Data)
	if err != nil {
		return nil, fmt.Errorf("data dir %s: %w", cfg.Data, err)
	}
	cfg.Data = abs
	s := &Server{Config: cfg, Log: log}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	if err := os.MkdirAll(cfg.Data, 0o700); err != nil {
		return nil, fmt.Errorf("data dir %s: %w", cfg.Data, err)
	}
	if err := s.openStore(ctx); err != nil {
		return nil, err
	}
	if s.ID, err = s.serverID(ctx); err != nil {
		return nil, err
	}
	blobs, err := blobfs.New(filepath.Join(cfg.Data, "blobs"))
	if err != nil {
		return nil, err
	}
	s.Blobs = blobs
	s.closers = append(s.closers, blobs.Close)
	if err := s.openSecrets(); err != nil {
		return nil, err
	}
	if err := s.openAudit(ctx); err != nil {
		return nil, err
	}
	if err := s.repairHalfDone(ctx); err != nil {
		return nil, err
	}
	if s.Access, err = access.NewService(s.Store, accessOptions(cfg), log); err != nil {
		return nil, err
	}
	pw, created, err := s.Access.Bootstrap(ctx, opts.AdminPassword)
	if err != nil {
		return nil, err
	}
	if created {
		if opts.AdminPassword == "" {
			fmt.Fprintf(opts.Out, "Created user admin with password: %s\nThis password is shown only now; change it with `dockyard users set admin --password-stdin`.\n", pw)
		} else {
			fmt.Fprintln(opts.Out, "Created user admin with the password from DOCKYARD_ADMIN_PASSWORD.")
		}
	}
	if err := s.listen(ctx, opts.Out); err != nil {
		return nil, err
	}
	s.API = &api.API{Access: s.Access, Audit: s.Audit, Log: log, Mounts: map[string]http.Handler{}}
	if err := s.openModels(ctx); err != nil {
		return nil, err
	}
	if err := s.openModelsAPI(ctx); err != nil {
		return nil, err
	}
	if err := s.openContainers(ctx); err != nil {
		return nil, err
	}
	if s.Sync, err = s.openSync(ctx, cfg.Containers.SyncInterval); err != nil {
		return nil, err
	}
	if err := s.openImages(ctx); err != nil {
		return nil, err
	}
	if err := s.openTelemetry(ctx); err != nil {
		return nil, err
	}
	if err := s.openMaintenance(ctx); err != nil {
		return nil, err
	}
	if err := s.openEvents(ctx); err != nil {
		return nil, err
	}
	if err := s.openSearch(ctx); err != nil {
		return nil, err
	}
	if err := s.openEventsAPI(ctx); err != nil {
		return nil, err
	}
	if err := s.openML(ctx); err != nil {
		return nil, err
	}
	s.http = &http.Server{
		Handler:           s.discardFailedWrites(s.API.Handler()),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelDebug),
	}
	s.http.Handler = s.instrument(s.http.Handler)
	return s, nil
}

// serverID returns this installation's id, created on first start.
func (s *Server) serverID(ctx context.Context) (string, error) {
	id, err := s.Store.GetSetting(ctx, "server_id")
	if err == nil {
		return id, nil
	}
	if !errdefs.IsNotFound(err) {
		return "", err
	}
	var b [8]byte
	rand.Read(b[:])
	id = hex.EncodeToString(b[:])
	return id, s.Store.PutSetting(ctx, "server_id", id)
}

// listen opens the listener and sets up TLS: the operator's certificate
// when configured, else one issued by the server's own CA for the address
// actually listened on.
func (s *Server) listen(ctx context.Context, out io.Writer) error {
	ln, err := net.Listen("tcp", s.Config.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w; choose another --addr", s.Config.Addr, err)
	}
	s.ln = ln
	s.closers = append(s.closers, func() error { ln.Close(); return nil })
	pkiDir := filepath.Join(s.Config.Data, "pki")
	ca, created, err := pki.LoadOrCreateCA(pkiDir)
	if err != nil {
		return err
	}
	s.CA = ca
	s.caFile = filepath.Join(pkiDir, "ca.pem")
	s.fingerprint = pki.Fingerprint(ca.CertPEM())
	var cert tls.Certificate
	if s.Config.TLS.CertFile != "" {
		cert, err = pki.LoadKeyPair(s.Config.TLS.CertFile, s.Config.TLS.KeyFile, []string{hostOf(s.Config.Addr)})
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "Serving with the certificate %s.\n", s.Config.TLS.CertFile)
	} else {
		hosts := []string{hostOf(s.Config.Addr)}
		if cert, _, err = pki.LoadOrCreateServerCert(pkiDir, ca, hosts, s.Config.TLS.ServerCertTTL); err != nil {
			return err
		}
		verb := "Using"
		if created {
			verb = "Created"
		}
		fmt.Fprintf(out, "%s the server CA %s\nCA SHA-256 fingerprint: %s\n", verb, s.caFile, s.fingerprint)
	}
	s.ln = tls.NewListener(ln, pki.ServerTLSConfig(cert, nil))
	return nil
}

func hostOf(addr string) string {
	h, _, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	return h
}

// URL is the server's HTTPS address.
func (s *Server) URL() string {
	return "https://" + s.ln.Addr().String()
}

// CAFile is the PEM file of the CA that verifies the server.
func (s *Server) CAFile() string { return s.caFile }

// Fingerprint is the CA certificate's SHA-256 fingerprint.
func (s *Server) Fingerprint() string { return s.fingerprint }

// Serve answers requests until ctx ends, then shuts down gracefully.
func (s *Server) Serve(ctx context.Context) error {
	errc := make(chan error, 1)
	go func() { errc <- s.http.Serve(s.ln) }()
	s.Log.Info("dockyard server ready", "url", s.URL(), "data", s.Config.Data, "server_id", s.ID)
	go s.housekeeping(ctx)
	go s.collectGarbage(ctx)
	select {
	case err := <-errc:
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return err
	case <-ctx.Done():
	}
	s.Log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	err := s.http.Shutdown(sctx)
	<-errc
	if _, cerr := s.AuditLog.Checkpoint(sctx); cerr != nil {
		s.Log.Error("signing the audit checkpoint at shutdown", "err", cerr)
	}
	return err
}

// Close releases everything New opened, in reverse order.
func (s *Server) Close() error {
	var errs []error
	for i := len(s.closers) - 1; i >= 0; i-- {
		errs = append(errs, s.closers[i]())
	}
	s.closers = nil
	return errors.Join(errs...)
}

// AdminToken mints an API token for the admin user. Only code that owns the
// data dir (the quickstart, tests) calls it; it is audited like any token.
func (s *Server) AdminToken(ctx context.Context, name string, ttl time.Duration) (string, error) {
	p, err := s.Access.EffectivePrincipal(ctx, access.AdminUser, "")
	if err != nil {
		return "", err
	}
	// The token and its audit event commit together or not at all.
	return store.Run(ctx, s.Access, func(ctx context.Context) (string, error) {
		secret, tok, err := s.Access.CreateAPIToken(ctx, p, name, ttl)
		if err != nil {
			return "", err
		}
		if err := s.Audit.Record(ctx, audit.Event{User: access.AdminUser, Action: "token.create", Object: "token:" + tok.ID,
			Result: audit.ResultSuccess, Message: "minted in-process by the owner of the data dir", Details: map[string]any{"name": name}}); err != nil {
			return "", fmt.Errorf("the token's audit event could not be recorded, so no token was made: %w", err)
		}
		return secret, nil
	})
}

// housekeeping runs periodic chores until ctx ends: expired tokens are
// deleted hourly, and the audit chain gets a signed checkpoint at the
// configured interval.
func (s *Server) housekeeping(ctx context.Context) {
	prune := time.NewTicker(time.Hour)
	defer prune.Stop()
	checkpoint := time.NewTicker(s.Config.Audit.CheckpointInterval)
	defer checkpoint.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-prune.C:
			if n, err := s.Access.PruneTokens(ctx); err != nil && ctx.Err() == nil {
				s.Log.Warn("pruning expired tokens", "err", err)
			} else if n > 0 {
				s.Log.Info("pruned expired tokens", "count", n)
			}
		case <-checkpoint.C:
			if _, err := s.AuditLog.Checkpoint(ctx); err != nil && ctx.Err() == nil {
				s.Log.Error("signing an audit checkpoint", "err", err)
			}
		}
	}
}
