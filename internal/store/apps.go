package store

import (
	"context"
	"time"
)

// App is an app: a named space that knowledge objects (models, lookups,
// notebooks) live in, with the roles that may use it (Read: use it as the
// request's app context and see what is shared in it) and the roles that
// may share objects into it (Write). "*" in a list means every role.
type App struct {
	Name      string
	Read      []string
	Write     []string
	CreatedBy string
	Created   time.Time
	Updated   time.Time
}

// AppUsage counts the knowledge objects that live in an app.
type AppUsage struct {
	Models    int
	Lookups   int
	Notebooks int
}

// Empty reports whether no object lives in the app.
func (u AppUsage) Empty() bool { return u.Models == 0 && u.Lookups == 0 && u.Notebooks == 0 }

// AppStore keeps apps. A new store holds the default app "search"
// (readable by "*", writable by admin and power), and migrating an older
// store creates every app an object, or a user's default app, names.
type AppStore interface {
	Transactor
	// CreateApp inserts a; errdefs.ErrConflict if the name exists.
	CreateApp(ctx context.Context, a App) error
	// GetApp returns the app called name, or errdefs.ErrNotFound.
	GetApp(ctx context.Context, name string) (App, error)
	// ListApps returns every app, sorted by name.
	ListApps(ctx context.Context) ([]App, error)
	// UpdateApp changes the read and write roles and Updated of a.Name;
	// errdefs.ErrNotFound if absent.
	UpdateApp(ctx context.Context, a App) error
	// AppUsage counts the objects living in the app.
	AppUsage(ctx context.Context, name string) (AppUsage, error)
	// DeleteApp removes the app when no object lives in it, in one
	// transaction: errdefs.ErrNotFound if absent, errdefs.ErrConflict
	// (with the usage) if objects live in it.
	DeleteApp(ctx context.Context, name string) (AppUsage, error)
}
