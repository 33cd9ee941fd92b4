// Package maintenance keeps the stores healthy: garbage collection of
// blobs nothing references, online backups of the database with its blobs
// and keys, and their offline restore.
package maintenance

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/dockyard/dockyard/internal/blob"
	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/models"
	"github.com/dockyard/dockyard/internal/store"
	"github.com/dockyard/dockyard/internal/telemetry"
)

// maxManifestBytes bounds a manifest read during marking.
const maxManifestBytes = 64 << 20

// Service runs garbage collection and backups; one at a time, so that a
// backup never loses a blob to a collection running beside it.
type Service struct {
	Store store.BlobRefStore
	Blobs blob.Store
	// Grace is how long a blob nothing references is kept after it was
	// last written or checked (storage.gc_grace): an upload, import or fit
	// stores its blobs before the row that references them.
	Grace time.Duration
	Log   *slog.Logger
	// Now is the clock (time.Now when nil).
	Now func() time.Time

	mu      sync.Mutex
	metrics gcMetrics
}

type gcMetrics struct {
	reclaimed prometheus.Counter
	deleted   prometheus.Counter
	runs      *prometheus.CounterVec
}

// Register adds the collection's metrics to m.
func (s *Service) Register(m *telemetry.Metrics) {
	s.metrics = gcMetrics{
		reclaimed: m.Counter("blob_gc_reclaimed_bytes_total", "Bytes of unreferenced blobs removed by garbage collection.").WithLabelValues(),
		deleted:   m.Counter("blob_gc_deleted_blobs_total", "Unreferenced blobs removed by garbage collection.").WithLabelValues(),
		runs:      m.Counter("blob_gc_runs_total", "Garbage collection runs, by result (ok or error).", "result"),
	}
}

// GCResult counts what a collection found and did.
type GCResult struct {
	Blobs        int           `json:"blobs"`         // stored when the collection began
	Bytes        int64         `json:"bytes"`         // their total size
	Live         int           `json:"live"`          // referenced, kept
	LiveBytes    int64         `json:"live_bytes"`    //
	Recent       int           `json:"recent"`        // unreferenced but used within the grace period, kept
	RecentBytes  int64         `json:"recent_bytes"`  //
	Deleted      int           `json:"deleted"`       // unreferenced, removed
	DeletedBytes int64         `json:"deleted_bytes"` // bytes reclaimed
	MissingRefs  int           `json:"missing_refs"`  // referenced but not stored (restore from a backup)
	Grace        time.Duration `json:"grace"`
	Took         time.Duration `json:"took"`
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// GC removes every blob that no row references and that nobody wrote or
// checked within the grace period. It lists the blobs first and marks
// (reads the references) second, so that a reference committed before the
// mark is seen; a blob stored or checked after the listing began is newer
// than the cutoff and survives. grace < 0 uses s.Grace.
func (s *Service) GC(ctx context.Context, grace time.Duration) (res GCResult, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	defer func() {
		if s.metrics.runs != nil {
			result := "ok"
			if err != nil {
				result = "error"
			}
			s.metrics.runs.WithLabelValues(result).Inc()
		}
	}()
	if grace < 0 {
		grace = s.Grace
	}
	start := s.now()
	res.Grace = grace
	cutoff := start.Add(-grace)

	stored := map[blob.Digest]blob.Info{}
	if err := s.Blobs.List(ctx, func(i blob.Info) error {
		stored[i.Digest] = i
		res.Blobs++
		res.Bytes += i.Size
		return nil
	}); err != nil {
		return res, fmt.Errorf("garbage collection: list blobs: %w", err)
	}
	live, missing, err := s.mark(ctx)
	if err != nil {
		return res, err
	}
	res.MissingRefs = missing
	for d, i := range stored {
		switch {
		case live[d]:
			res.Live++
			res.LiveBytes += i.Size
		case !i.Used.Before(cutoff):
			res.Recent++
			res.RecentBytes += i.Size
		default:
			deleted, _, err := s.Blobs.DeleteUnused(ctx, d, cutoff)
			if err != nil {
				return res, fmt.Errorf("garbage collection: %w", err)
			}
			if deleted {
				res.Deleted++
				res.DeletedBytes += i.Size
				if s.metrics.reclaimed != nil {
					s.metrics.reclaimed.Add(float64(i.Size))
					s.metrics.deleted.Inc()
				}
			} else {
				// Checked or stored again since the listing: in use.
				res.Recent++
				res.RecentBytes += i.Size
			}
		}
	}
	res.Took = s.now().Sub(start)
	if res.MissingRefs > 0 && s.Log != nil {
		s.Log.Error("blobs referenced by the database are missing from the blob store; restore them from a backup",
			"missing", res.MissingRefs)
	}
	return res, nil
}

// mark returns the set of referenced digests, manifests expanded, and how
// many referenced blobs are not stored. A manifest that cannot be read
// (corrupt) stops the collection: what it references is unknown.
func (s *Service) mark(ctx context.Context) (map[blob.Digest]bool, int, error) {
	refs, err := s.Store.BlobReferences(ctx)
	if err != nil {
		return nil, 0, fmt.Errorf("garbage collection: %w", err)
	}
	live := map[blob.Digest]bool{}
	for _, d := range refs.Direct {
		live[blob.Digest(d)] = true
	}
	for _, m := range refs.Manifests {
		d := blob.Digest(m)
		live[d] = true
		man, err := s.readManifest(ctx, d)
		if errdefs.IsNotFound(err) {
			continue // counted by Missing below
		}
		if err != nil {
			return nil, 0, fmt.Errorf("garbage collection stopped, nothing was deleted: %w", err)
		}
		for _, f := range man.Files {
			live[f.Digest] = true
		}
	}
	ds := make([]blob.Digest, 0, len(live))
	for d := range live {
		ds = append(ds, d)
	}
	absent, err := s.Blobs.Missing(ctx, ds)
	if err != nil {
		return nil, 0, fmt.Errorf("garbage collection: %w", err)
	}
	return live, len(absent), nil
}

func (s *Service) readManifest(ctx context.Context, d blob.Digest) (models.Manifest, error) {
	var man models.Manifest
	rc, err := s.Blobs.Open(ctx, d)
	if err != nil {
		return man, err
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, maxManifestBytes))
	if err != nil {
		return man, fmt.Errorf("model manifest %s: %w", d, err)
	}
	if err := json.Unmarshal(b, &man); err != nil {
		return man, fmt.Errorf("model manifest %s is not valid: %w", d, err)
	}
	return man, nil
}
