package blob

import (
	"context"
	"sync"
	"time"
)

// Created records the blobs that Put and PutVerified newly created (the
// digest was not stored before) under a context, with the time each was
// written, so that a request that fails can discard what it alone stored
// instead of leaving it for garbage collection. Safe for concurrent use.
type Created struct {
	mu sync.Mutex
	m  map[Digest]time.Time
}

type createdKey struct{}

// TrackCreated returns a context under which stores note the blobs they
// create, and the record they note them in.
func TrackCreated(ctx context.Context) (context.Context, *Created) {
	c := &Created{m: map[Digest]time.Time{}}
	return context.WithValue(ctx, createdKey{}, c), c
}

// NoteCreated records, for implementations, that d did not exist and was
// written at when (the blob's Used time).
func NoteCreated(ctx context.Context, d Digest, when time.Time) {
	if c, ok := ctx.Value(createdKey{}).(*Created); ok {
		c.mu.Lock()
		c.m[d] = when
		c.mu.Unlock()
	}
}

// Blobs returns what was noted: digest → time written.
func (c *Created) Blobs() map[Digest]time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[Digest]time.Time, len(c.m))
	for d, t := range c.m {
		out[d] = t
	}
	return out
}

// Len is how many blobs were noted.
func (c *Created) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m)
}
