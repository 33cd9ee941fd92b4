package server

import (
	"context"
	"io"
	"net/http"
	"time"

	"github.com/dockyard/dockyard/internal/access"
	"github.com/dockyard/dockyard/internal/api"
	"github.com/dockyard/dockyard/internal/audit"
	"github.com/dockyard/dockyard/internal/blob"
	"github.com/dockyard/dockyard/internal/maintenance"
	"github.com/dockyard/dockyard/internal/telemetry"
	"github.com/dockyard/dockyard/internal/wire"
)

// openMaintenance builds garbage collection and backups and mounts their
// admin routes. It runs after openTelemetry (for the metrics).
func (s *Server) openMaintenance(_ context.Context) error {
	s.Maintenance = &maintenance.Service{
		Store: s.Store, Blobs: s.Blobs, Grace: s.Config.Storage.GCGrace, Log: s.Log.With("component", "maintenance"),
	}
	s.Maintenance.Register(s.Metrics)
	a := &api.AdminAPI{API: s.API, GC: s.gc, Backup: s.backup}
	s.API.Extra = append(s.API.Extra, a.Routes()...)
	return nil
}

func (s *Server) gc(ctx context.Context, grace time.Duration) (wire.GCResult, error) {
	r, err := s.Maintenance.GC(ctx, grace)
	if err != nil {
		return wire.GCResult{}, err
	}
	return wire.GCResult{
		Blobs: r.Blobs, Bytes: r.Bytes, Live: r.Live, LiveBytes: r.LiveBytes, Recent: r.Recent, RecentBytes: r.RecentBytes,
		Deleted: r.Deleted, DeletedBytes: r.DeletedBytes, MissingRefs: r.MissingRefs,
		Grace: r.Grace.String(), Took: r.Took.String(),
	}, nil
}

func (s *Server) backup(ctx context.Context, w io.Writer) (map[string]any, error) {
	tr, err := s.Maintenance.Backup(ctx, maintenance.BackupSource{DB: s.Store, DataDir: s.Config.Data, ServerID: s.ID}, w)
	if err != nil {
		return nil, err
	}
	return map[string]any{"files": tr.Files, "db_bytes": tr.DBBytes, "blobs": tr.Blobs, "blob_bytes": tr.BlobBytes}, nil
}

// collectGarbage runs a collection at start and then every
// storage.gc_interval until ctx ends; a run that deletes anything (or
// fails) is audited as the system user, every run is logged. An interval
// of 0 turns it off.
func (s *Server) collectGarbage(ctx context.Context) {
	every := s.Config.Storage.GCInterval
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
	r, err := s.gc(ctx, -1)
	if ctx.Err() != nil {
		return
	}
	e := audit.Event{User: access.SystemUser, Action: "storage.gc", Object: "blobs", Result: audit.ResultSuccess}
	if err != nil {
		s.Log.Error("garbage collection of the blob store", "err", err)
		e.Result, e.Message = audit.ResultFailure, err.Error()
	} else {
		s.Log.Info("garbage collection of the blob store", "deleted", r.Deleted, "deleted_bytes", r.DeletedBytes,
			"live", r.Live, "recent", r.Recent, "took", r.Took)
		e.Details = map[string]any{"blobs": r.Blobs, "bytes": r.Bytes, "deleted": r.Deleted, "deleted_bytes": r.DeletedBytes,
			"live": r.Live, "recent": r.Recent, "missing_refs": r.MissingRefs, "grace": r.Grace}
	}
	if err == nil && r.Deleted == 0 {
		return // nothing changed
	}
	if err := s.Audit.Record(context.WithoutCancel(ctx), e); err != nil {
		s.Log.Error("audit event not recorded", "action", e.Action, "err", err)
	}
}

// discardFailedWrites wraps the API so that a request answered with an
// error (a refused import, an upload cut short) discards the blobs it alone
// created, rather than leaving them for garbage collection. Streaming
// answers that fail after their status was sent keep theirs until then.
func (s *Server) discardFailedWrites(h http.Handler) http.Handler {
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
		n, size, err := s.Maintenance.DiscardCreated(context.WithoutCancel(ctx), created.Blobs())
		if err != nil {
			s.Log.Error("discarding the blobs of a failed request", "path", r.URL.Path, "err", err)
			return
		}
		if n > 0 {
			s.Log.Info("discarded the blobs of a failed request", "path", r.URL.Path, "blobs", n, "bytes", size)
		}
	})
}
