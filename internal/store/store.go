// Package store defines Dockyard's metadata store: the interfaces every
// backend implements, grouped by domain (access, settings, and those later
// domains add). sqlite/ is the embedded implementation; storetest/ is the
// conformance suite that every implementation (a PostgreSQL one included)
// runs unchanged.
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
	ImageStore
	RegistryStore
	ImageScanStore
	// Close releases the store.
	Close() error
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
