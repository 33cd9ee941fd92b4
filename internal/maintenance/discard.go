package maintenance

import (
	"context"
	"fmt"
	"time"

	"github.com/dockyard/dockyard/internal/blob"
)

// DiscardCreated deletes the blobs a failed request created (digest → the
// time it wrote each, from blob.TrackCreated), so that a refused import or
// a broken upload leaves nothing behind. A blob is kept when anything
// references it, or when another writer stored or checked it after this
// request wrote it (it may be about to reference it): DeleteUnused's cutoff
// is the request's own write. It returns how many blobs and bytes it
// deleted.
func (s *Service) DiscardCreated(ctx context.Context, created map[blob.Digest]time.Time) (int, int64, error) {
	if len(created) == 0 {
		return 0, 0, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	live, _, err := s.mark(ctx)
	if err != nil {
		return 0, 0, fmt.Errorf("discarding the blobs of a failed request: %w", err)
	}
	n, bytes := 0, int64(0)
	for d, at := range created {
		if live[d] {
			continue
		}
		// Not Stat: it would mark the blob as used.
		deleted, size, err := s.Blobs.DeleteUnused(ctx, d, at.Add(time.Nanosecond))
		if err != nil {
			return n, bytes, fmt.Errorf("discarding the blobs of a failed request: %w", err)
		}
		if deleted {
			n++
			bytes += size
		}
	}
	if s.metrics.reclaimed != nil && n > 0 {
		s.metrics.reclaimed.Add(float64(bytes))
		s.metrics.deleted.Add(float64(n))
	}
	return n, bytes, nil
}
