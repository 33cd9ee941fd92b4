// Package server wires Dockyard together from its configuration: the
// store, the blob store, the CA and certificates, the access service and the
// API, served over HTTPS with a graceful shutdown.
package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/dockyard/dockyard/internal/access"
	"github.com/dockyard/dockyard/internal/api"
	"github.com/dockyard/dockyard/internal/audit"
	blobfs "github.com/dockyard/dockyard/internal/blob/fs"
	"github.com/dockyard/dockyard/internal/config"
	"github.com/dockyard/dockyard/internal/containers"
	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/index"
	"github.com/dockyard/dockyard/internal/maintenance"
	"github.com/dockyard/dockyard/internal/notebooks"
	"github.com/dockyard/dockyard/internal/store"
)

// Server is a running Dockyard control plane. New assembles it; its parts
// are reached through methods, not fields, so that nothing outside New can
// swap one after the others were built on it.
type Server struct {
	cfg config.Config
	log *slog.Logger
	id  string

	store       store.Store
	endpoint    *endpoint
	access      *access.Service
	audit       audit.Recorder // the audit log, failing the request of an event it cannot record
	auditLog    *audit.Log
	api         *api.API
	obs         observability
	index       *index.Service
	notebooks   *notebooks.Service
	runtimes    runtimes
	containers  *containers.Service
	maintenance *maintenance.Service

	http    *http.Server
	closers []func() error
}

// Options are what the caller adds to the configuration.
type Options struct {
	// Out receives the messages an operator must see once: the CA
	// fingerprint and a generated admin password.
	Out io.Writer
	// AdminPassword overrides DOCKYARD_ADMIN_PASSWORD for the first start.
	AdminPassword string
	// Store, when set, is the metadata store to use instead of opening the
	// configured one under the data dir (no integrity check is run on it);
	// the server closes it. Snapshots for backups are opened with the
	// configured implementation.
	Store store.Store
}

// New opens (or creates) everything under the data dir and listens on the
// configured address. Serve starts answering.
//
// The order below is the dependency order: each part is built from those
// before it, passed as arguments, and what a part opens is closed by Close
// in reverse order.
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
	s := &Server{cfg: cfg, log: log}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	if err := os.MkdirAll(cfg.Data, 0o700); err != nil {
		return nil, fmt.Errorf("data dir %s: %w", cfg.Data, err)
	}

	// Storage: the metadata store, this installation's id, the blobs and
	// the key that seals secrets at rest.
	st := opts.Store
	if st == nil {
		if st, err = openStore(ctx, cfg, log); err != nil {
			return nil, err
		}
	}
	s.store = st
	s.onClose(st.Close)
	if s.id, err = serverID(ctx, st); err != nil {
		return nil, err
	}
	blobs, err := blobfs.New(filepath.Join(cfg.Data, "blobs"))
	if err != nil {
		return nil, err
	}
	s.onClose(blobs.Close)
	box, err := openSecrets(cfg)
	if err != nil {
		return nil, err
	}

	// The audit log, then what an older version left half done (repaired
	// with audit events), then users and the first admin.
	if s.auditLog, err = openAudit(ctx, cfg, st, log); err != nil {
		return nil, err
	}
	// An event that cannot be recorded fails the API request it belongs
	// to, also where a service only logs the error.
	s.audit = api.FailRequests(s.auditLog)
	if err := repairHalfDone(ctx, st, s.audit, log); err != nil {
		return nil, err
	}
	if s.access, err = access.NewService(st, accessOptions(cfg), log); err != nil {
		return nil, err
	}
	if err := bootstrapAdmin(ctx, st, s.access, s.audit, opts); err != nil {
		return nil, err
	}

	// The listener and the CA: containers need the server's URL and CA.
	if s.endpoint, err = listen(cfg, opts.Out); err != nil {
		return nil, err
	}
	s.onClose(func() error { s.endpoint.ln.Close(); return nil })

	// The services, each with its routes.
	s.api = &api.API{Access: s.access, Audit: s.audit, Log: log, Mounts: map[string]http.Handler{}}
	var routes []api.Route
	s.obs, routes = newTelemetry(ctx, cfg, s.id, st, box, log, s.api)
	s.onClose(s.obs.shutdown)
	s.addRoutes(routes)
	var hec *index.HEC
	if s.index, hec, routes, err = newEvents(cfg, st, s.audit, s.auditLog, log, s.api); err != nil {
		return nil, err
	}
	s.api.Mounts["/services/collector/"] = hec
	s.api.Mounts["/services/collector"] = hec
	s.addRoutes(routes)
	registry, routes, err := newModels(cfg, st, blobs, s.audit, log, s.api)
	if err != nil {
		return nil, err
	}
	s.addRoutes(routes)
	s.notebooks, routes = newNotebooks(st, blobs, s.audit, log, s.api)
	s.addRoutes(routes)

	clientCert, err := agentClientCert(cfg, s.endpoint.ca, s.id, log)
	if err != nil {
		return nil, err
	}
	rts, closeRuntimes, err := openRuntimes(ctx, cfg, s.id, s.endpoint.ca, clientCert, log)
	if err != nil {
		return nil, err
	}
	s.runtimes = rts
	s.onClose(closeRuntimes)
	imgs, routes := newImages(ctx, cfg, st, box, rts, log, s.api)
	s.addRoutes(routes)
	quotas, err := newGPUQuotas(cfg, st, s.access)
	if err != nil {
		return nil, err
	}
	s.containers, routes, err = newContainers(ctx, cfg, s.id, s.endpoint, rts, pinImage(imgs),
		st, box, s.notebooks, s.access, quotas, s.audit, s.index, s.obs, log, s.api)
	if err != nil {
		return nil, err
	}
	s.addRoutes(routes)
	if routes, err = newGPU(rts, s.containers, quotas, s.api); err != nil {
		return nil, err
	}
	s.addRoutes(routes)
	s.onClose(runReconciler(cfg, s.containers))
	syncer, err := newSyncer(rts, s.containers, s.notebooks, s.access, s.audit, log)
	if err != nil {
		return nil, err
	}
	s.onClose(runSync(cfg, syncer, s.containers))
	s.addRoutes(newJupyter(rts, s.containers, s.api))
	s.onClose(runCuller(cfg, s.containers, log))

	s.maintenance, routes = newMaintenance(cfg, s.id, st, storeFiles(cfg), blobs, s.obs.metrics, log, s.api)
	s.addRoutes(routes)
	mlCmds, err := newML(cfg, registry, s.containers, s.notebooks, imgs, s.audit, log)
	if err != nil {
		return nil, err
	}
	s.addRoutes(newSearch(cfg, st, blobs, s.audit, s.index, mlCmds, log, s.api))
	if routes, err = newWeb(log, s.api); err != nil {
		return nil, err
	}
	s.addRoutes(routes)

	s.http = &http.Server{
		Handler:           s.obs.instrument(discardFailedWrites(s.api.Handler(), s.maintenance, log)),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelDebug),
	}
	return s, nil
}

// onClose adds f to what Close runs (in reverse order).
func (s *Server) onClose(f func() error) { s.closers = append(s.closers, f) }

// addRoutes adds routes to the API.
func (s *Server) addRoutes(routes []api.Route) { s.api.Extra = append(s.api.Extra, routes...) }

// bootstrapAdmin creates the admin user on first start, with its audit
// event (by "system", in the same transaction: the audit trail begins
// with it), and says so on opts.Out with the password when it was
// generated. The password is hashed inside that transaction, against the
// rule of doing no slow work in one: nothing else runs yet at start.
func bootstrapAdmin(ctx context.Context, st store.Transactor, acc *access.Service, rec audit.Recorder, opts Options) error {
	var pw string
	var created bool
	err := st.InTx(ctx, func(ctx context.Context) error {
		var err error
		if pw, created, err = acc.Bootstrap(ctx, opts.AdminPassword); err != nil || !created {
			return err
		}
		source := "generated"
		if opts.AdminPassword != "" {
			source = "DOCKYARD_ADMIN_PASSWORD"
		}
		return rec.Record(ctx, audit.Event{User: "system", Action: "user.create", Object: "user:" + access.AdminUser,
			Result: audit.ResultSuccess, Message: "the first start created the admin user",
			Details: map[string]any{"roles": []string{access.RoleAdmin}, "first_start": true, "password": source}})
	})
	if err != nil || !created {
		return err
	}
	if opts.AdminPassword == "" {
		fmt.Fprintf(opts.Out, "Created user admin with password: %s\nThis password is shown only now; change it with `dockyard users set admin --password-stdin`.\n", pw)
	} else {
		fmt.Fprintln(opts.Out, "Created user admin with the password from DOCKYARD_ADMIN_PASSWORD.")
	}
	return nil
}

// serverID returns this installation's id, created on first start.
func serverID(ctx context.Context, st store.SettingsStore) (string, error) {
	id, err := st.GetSetting(ctx, "server_id")
	if err == nil {
		return id, nil
	}
	if !errdefs.IsNotFound(err) {
		return "", err
	}
	var b [8]byte
	rand.Read(b[:])
	id = hex.EncodeToString(b[:])
	return id, st.PutSetting(ctx, "server_id", id)
}

// URL is the server's HTTPS address.
func (s *Server) URL() string { return s.endpoint.url() }

// CAFile is the PEM file of the CA that verifies the server.
func (s *Server) CAFile() string { return s.endpoint.caFile }

// Fingerprint is the CA certificate's SHA-256 fingerprint.
func (s *Server) Fingerprint() string { return s.endpoint.fingerprint }

// ID is this installation's id (labels its containers, heads its backups).
func (s *Server) ID() string { return s.id }

// Routes lists every route the API serves (not the HTTP Event Collector,
// which is mounted beside them with its own authentication).
func (s *Server) Routes() []api.Route { return s.api.Routes() }

// Access is the access service: users, roles, tokens, apps.
func (s *Server) Access() *access.Service { return s.access }

// Containers is the container service.
func (s *Server) Containers() *containers.Service { return s.containers }

// Serve answers requests until ctx ends, then shuts down gracefully.
func (s *Server) Serve(ctx context.Context) error {
	errc := make(chan error, 1)
	go func() { errc <- s.http.Serve(s.endpoint.ln) }()
	s.log.Info("dockyard server ready", "url", s.URL(), "data", s.cfg.Data, "server_id", s.id)
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
	s.log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	err := s.http.Shutdown(sctx)
	<-errc
	if _, cerr := s.auditLog.Checkpoint(sctx); cerr != nil {
		s.log.Error("signing the audit checkpoint at shutdown", "err", cerr)
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
	p, err := s.access.EffectivePrincipal(ctx, access.AdminUser, "")
	if err != nil {
		return "", err
	}
	// The token and its audit event commit together or not at all.
	return store.Run(ctx, s.access, func(ctx context.Context) (string, error) {
		secret, tok, err := s.access.CreateAPIToken(ctx, p, name, ttl)
		if err != nil {
			return "", err
		}
		if err := s.audit.Record(ctx, audit.Event{User: access.AdminUser, Action: "token.create", Object: "token:" + tok.ID,
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
	checkpoint := time.NewTicker(s.cfg.Audit.CheckpointInterval)
	defer checkpoint.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-prune.C:
			if n, err := s.access.PruneTokens(ctx); err != nil && ctx.Err() == nil {
				s.log.Warn("pruning expired tokens", "err", err)
			} else if n > 0 {
				s.log.Info("pruned expired tokens", "count", n)
			}
		case <-checkpoint.C:
			if _, err := s.auditLog.Checkpoint(ctx); err != nil && ctx.Err() == nil {
				s.log.Error("signing an audit checkpoint", "err", err)
			}
		}
	}
}
