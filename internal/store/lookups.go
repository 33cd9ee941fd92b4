package store

import (
	"context"
	"time"
)

// Lookup is the metadata of a CSV lookup table: a knowledge object with the
// same owner, app, sharing and role model as models. Its bytes live in the
// blob store under Digest.
type Lookup struct {
	ID      int64
	Name    string // file name, e.g. users.csv
	App     string
	Owner   string
	Sharing string   // user, app or global
	Read    []string // roles that may read; empty: everyone it is visible to
	Write   []string // roles that may write; empty: only the owner
	Digest  string   // blob digest of the CSV content
	Size    int64
	Created time.Time
	Updated time.Time
}

// LookupStore keeps lookup metadata. A lookup is unique by (app, name,
// scope, owner), where scope is the owner for a private (user) lookup and
// shared otherwise: each user may keep a private and a shared x.csv in an
// app, beside other users' (see Model).
type LookupStore interface {
	Transactor
	// CreateLookup inserts a lookup and returns it with its ID;
	// errdefs.ErrConflict when one with the same app, name, scope and owner exists.
	CreateLookup(ctx context.Context, l Lookup) (Lookup, error)
	// GetLookup returns the lookup with id, or errdefs.ErrNotFound.
	GetLookup(ctx context.Context, id int64) (Lookup, error)
	// FindLookups returns every lookup called name, in every app, ordered
	// by app, owner and id.
	FindLookups(ctx context.Context, name string) ([]Lookup, error)
	// ListLookups returns the lookups of app ("" for every app), ordered by
	// app, name and id.
	ListLookups(ctx context.Context, app string) ([]Lookup, error)
	// UpdateLookup changes a lookup's content (Digest, Size), sharing and
	// roles, and Updated; errdefs.ErrNotFound if absent, ErrConflict if the
	// new sharing collides with another lookup.
	UpdateLookup(ctx context.Context, l Lookup) error
	// DeleteLookup removes a lookup; errdefs.ErrNotFound if absent.
	DeleteLookup(ctx context.Context, id int64) error
}
