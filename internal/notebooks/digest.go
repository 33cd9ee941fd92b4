package notebooks

import (
	"context"
	"crypto/subtle"
	"fmt"
	"io"

	"github.com/dockyard/dockyard/internal/blob"
	"github.com/dockyard/dockyard/internal/errdefs"
)

// ContentByDigest returns the content of the notebook version whose
// SHA-256 is digest ("sha256:<hex>"), read from the blob store and checked
// against the digest. It asks no permission: it serves the model commands,
// which run the notebook version a model version recorded for anyone who
// may read the model (sharing a model shares the code that made it). It
// lists nothing and names no notebook; the notebooks API still answers
// "notebook not found" to a caller who may not read the notebook.
func (s *Service) ContentByDigest(ctx context.Context, digest string) ([]byte, error) {
	d, err := blob.ParseDigest(digest)
	if err != nil {
		return nil, fmt.Errorf("recorded notebook digest: %w", err)
	}
	rc, err := s.blobs.Open(ctx, d)
	if err != nil {
		if errdefs.IsNotFound(err) {
			return nil, errdefs.NotFoundf("notebook version %s is not in the blob store", d)
		}
		return nil, fmt.Errorf("notebook version %s: %w", d, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, MaxSize+1))
	if err != nil {
		return nil, fmt.Errorf("notebook version %s: reading it: %w", d, err)
	}
	if len(b) > MaxSize {
		return nil, errdefs.Invalidf("notebook version %s is larger than %d bytes", d, MaxSize)
	}
	if got := blob.FromBytes(b); subtle.ConstantTimeCompare([]byte(got), []byte(d)) != 1 {
		return nil, errdefs.Unavailablef("notebook version %s: the stored content has digest %s; it was changed, so it is not run", d, got)
	}
	return b, nil
}
