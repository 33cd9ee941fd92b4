// Package store defines Dockyard's metadata store: the interfaces every
// backend implements, grouped by domain (access, settings, and those later
// domains add). sqlite/ is the embedded implementation; storetest/ is the
// conformance suite that every implementation (a PostgreSQL one included)
// runs unchanged. Services take the domain interface they use; the server
// holds a Store and names the implementation in one place only (where it
// opens the database).
//
// Methods return errors of the errdefs kinds: ErrNotFound for a missing
// row, ErrConflict for a duplicate key.
package store

import (
	"context"
	"time"
)

// Store is the whole metadata store.
type Store interface {
	Transactor
	AccessStore
	SettingsStore
	EventStore
	LookupStore
	ModelStore
	ContainerStore
	NotebookStore
	BlobRefStore
	Snapshotter
	ImageStore
	RegistryStore
	ImageScanStore
	GPUQuotaStore
	SigningStore
	// Close releases the store.
	Close() error
}

// Snapshotter is a store that online backups can copy while it stays in
// use.
type Snapshotter interface {
	// Snapshot writes a consistent copy of the whole store to dst, a file
	// that must not exist: writes made meanwhile are wholly in the copy or
	// not at all. The implementation's Files opens the copy.
	Snapshot(ctx context.Context, dst string) error
}

// Files opens and checks the stores of one implementation that are kept in
// a single file: the copies Snapshot writes, and the database of a backup
// being restored (or of a data directory at start).
type Files interface {
	// Check checks the integrity of the file at path without changing its
	// contents; a missing file passes (Open creates it).
	Check(ctx context.Context, path string) error
	// Open opens the file at path, creating it when missing, and brings its
	// schema up to date.
	Open(ctx context.Context, path string) (Store, error)
	// IsCorrupt reports whether an error of Check or Open says the file is
	// damaged.
	IsCorrupt(err error) bool
}

// SettingsStore keeps small server-wide values (server id, configuration
// overrides) by key.
type SettingsStore interface {
	// GetSetting returns the value under key, or errdefs.ErrNotFound.
	GetSetting(ctx context.Context, key string) (string, error)
	// PutSetting sets key to value.
	PutSetting(ctx context.Context, key, value string) error
}

// Clock is how the store learns the time in tests and production alike.
type Clock func() time.Time
