package api

import (
	"context"
	"io"
	"net/http"
	"time"

	"github.com/dockyard/dockyard/internal/access"
	"github.com/dockyard/dockyard/internal/audit"
	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/wire"
)

// AdminAPI serves storage upkeep: garbage collection and online backups.
// Both need the admin_storage capability; a backup holds every secret the
// server keeps.
type AdminAPI struct {
	*API
	// GC collects unreferenced blobs; grace < 0 means the configured one.
	GC func(ctx context.Context, grace time.Duration) (wire.GCResult, error)
	// Backup writes a backup archive to w and returns a summary for the
	// audit event.
	Backup func(ctx context.Context, w io.Writer) (map[string]any, error)
}

// Routes lists the admin routes.
func (a *AdminAPI) Routes() []Route {
	return []Route{
		{Method: "POST", Pattern: "/v1/admin/gc", Cap: access.CapAdminStorage, Action: "storage.gc", Handle: a.gc},
		{Method: "GET", Pattern: "/v1/admin/backup", Cap: access.CapAdminStorage, Action: "storage.backup", Handle: a.backup},
	}
}

// gc runs a collection now. ?grace=DURATION overrides storage.gc_grace
// (0 collects every unreferenced blob, including those of uploads in
// flight: use it only when nothing is being written).
func (a *AdminAPI) gc(w http.ResponseWriter, r *http.Request) error {
	grace := time.Duration(-1)
	if g := r.URL.Query().Get("grace"); g != "" {
		d, err := time.ParseDuration(g)
		if err != nil || d < 0 {
			return errdefs.Invalidf("grace %q is not a duration such as 1h or 0s", g)
		}
		grace = d
	}
	res, err := a.GC(r.Context(), grace)
	if err != nil {
		a.record(r, audit.Event{Action: "storage.gc", Object: "blobs", Result: audit.ResultFailure, Message: err.Error()})
		return err
	}
	a.record(r, audit.Event{Action: "storage.gc", Object: "blobs", Details: map[string]any{
		"blobs": res.Blobs, "bytes": res.Bytes, "deleted": res.Deleted, "deleted_bytes": res.DeletedBytes,
		"live": res.Live, "recent": res.Recent, "missing_refs": res.MissingRefs, "grace": res.Grace,
	}})
	return writeJSON(w, http.StatusOK, res)
}

// backup streams a backup archive (a tar file). A failure before anything
// was sent is an ordinary error answer; a failure midway breaks the
// connection, so that the client never takes a short file for a backup
// (the archive's trailer is missing too).
func (a *AdminAPI) backup(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Content-Type", "application/x-tar")
	w.Header().Set("Content-Disposition", `attachment; filename="dockyard-backup.tar"`)
	fw := &flushWriter{w: w}
	if f, ok := w.(http.Flusher); ok {
		fw.f = f
	}
	sum, err := a.Backup(r.Context(), fw)
	if err != nil {
		a.record(r, audit.Event{Action: "storage.backup", Object: "server", Result: audit.ResultFailure, Message: err.Error()})
		if fw.n == 0 {
			w.Header().Del("Content-Disposition")
			w.Header().Del("Content-Type")
			return err
		}
		a.Log.Error("backup failed midway", "err", err, "request_id", RequestID(r.Context()))
		panic(http.ErrAbortHandler)
	}
	a.record(r, audit.Event{Action: "storage.backup", Object: "server", Details: sum})
	return nil
}
