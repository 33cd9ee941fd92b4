package server

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/dockyard/dockyard/internal/access"
	"github.com/dockyard/dockyard/internal/api"
	"github.com/dockyard/dockyard/internal/audit"
	"github.com/dockyard/dockyard/internal/blob"
	"github.com/dockyard/dockyard/internal/config"
	"github.com/dockyard/dockyard/internal/maintenance"
	"github.com/dockyard/dockyard/internal/store"
	"github.com/dockyard/dockyard/internal/telemetry"
	"github.com/dockyard/dockyard/internal/wire"
)

// newMaintenance builds garbage collection and backups (of st, whose
// snapshots files opens) and their admin routes.
func newMaintenance(cfg config.Config, serverID string, st store.Store, files store.Files, blobs blob.Store, metrics *telemetry.Metrics, log *slog.Logger, a *api.API) (*maintenance.Service, []api.Route) {
	m := &maintenance.Service{Store: st, Blobs: blobs, Grace: cfg.Storage.GCGrace, Log: log.With("component", "maintenance")}
	m.Register(metrics)
	src := maintenance.BackupSource{DB: st, Files: files, DataDir: cfg.Data, ServerID: serverID}
	backup := func(ctx context.Context, w io.Writer) (map[string]any, error) {
		tr, err := m.Backup(ctx, src, w)
		if err != nil {
			return nil, err
		}
		return map[string]any{"files": tr.Files, "db_bytes": tr.DBBytes, "blobs": tr.Blobs, "blob_bytes": tr.BlobBytes}, nil
	}
	ad := &api.AdminAPI{API: a, GC: func(ctx context.Context, grace time.Duration) (wire.GCResult, error) { return gc(ctx, m, grace) }, Backup: backup}
	return m, ad.Routes()
}

// gc runs one collection (grace < 0: the configured one).
func gc(ctx context.Context, m *maintenance.Service, grace time.Duration) (wire.GCResult, error) {
	r, err := m.GC(ctx, grace)
	if err != nil {
		return wire.GCResult{}, err
	}
	return wire.GCResult{
		Blobs: r.Blobs, Bytes: r.Bytes, Live: r.Live, LiveBytes: r.LiveBytes, Recent: r.Recent, RecentBytes: r.RecentBytes,
		Deleted: r.Deleted, DeletedBytes: r.DeletedBytes, MissingRefs: r.MissingRefs,
		Grace: r.Grace.String(), Took: r.Took.String(),
	}, nil
}

// collectGarbage runs a collection at start and then every
// storage.gc_interval until ctx ends; a run that deletes anything (or
// fails) is audited as the system user, every run is logged. An interval
// of 0 turns it off.
func (s *Server) collectGarbage(ctx context.Context) {
	every := s.cfg.Storage.GCInterval
	if every <= 0 {
		return
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		s.collectOnce(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (s *Server) collectOnce(ctx context.Context) {
	r, err := gc(ctx, s.maintenance, -1)
	if ctx.Err() != nil {
		return
	}
	e := audit.Event{User: access.SystemUser, Action: "storage.gc", Object: "blobs", Result: audit.ResultSuccess}
	if err != nil {
		s.log.Error("garbage collection of the blob store", "err", err)
		e.Result, e.Message = audit.ResultFailure, err.Error()
	} else {
		s.log.Info("garbage collection of the blob store", "deleted", r.Deleted, "deleted_bytes", r.DeletedBytes,
			"live", r.Live, "recent", r.Recent, "took", r.Took)
		e.Details = map[string]any{"blobs": r.Blobs, "bytes": r.Bytes, "deleted": r.Deleted, "deleted_bytes": r.DeletedBytes,
			"live": r.Live, "recent": r.Recent, "missing_refs": r.MissingRefs, "grace": r.Grace}
	}
	if err == nil && r.Deleted == 0 {
		return // nothing changed
	}
	if err := s.audit.Record(context.WithoutCancel(ctx), e); err != nil {
		s.log.Error("audit event not recorded", "action", e.Action, "err", err)
	}
}

// discardFailedWrites wraps the API so that a request answered with an
// error (a refused import, an upload cut short) discards the blobs it alone
// created, rather than leaving them for garbage collection. Streaming
// answers that fail after their status was sent keep theirs until then.
func discardFailedWrites(h http.Handler, m *maintenance.Service, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, created := blob.TrackCreated(r.Context())
		sw := &telemetry.StatusWriter{ResponseWriter: w}
		inner := r.WithContext(ctx)
		h.ServeHTTP(sw, inner)
		// The mux sets the matched pattern on the request it was given:
		// pass it out to the instrumentation around this handler.
		r.Pattern = inner.Pattern
		if sw.Code() < 400 || created.Len() == 0 {
			return
		}
		n, size, err := m.DiscardCreated(context.WithoutCancel(ctx), created.Blobs())
		if err != nil {
			log.Error("discarding the blobs of a failed request", "path", r.URL.Path, "err", err)
			return
		}
		if n > 0 {
			log.Info("discarded the blobs of a failed request", "path", r.URL.Path, "blobs", n, "bytes", size)
		}
	})
}
