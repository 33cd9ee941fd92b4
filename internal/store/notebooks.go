package store

import (
	"context"
	"time"
)

// Notebook is a stored notebook: a knowledge object (owner, app, sharing,
// read and write roles) with a history of immutable versions. ScopeOwner
// (the owner when Sharing is "user", else "") makes (App, Name, ScopeOwner,
// Owner) unique, as for models.
type Notebook struct {
	ID      int64
	Name    string
	App     string
	Owner   string
	Sharing string // user | app | global
	Read    []string
	Write   []string
	Latest  int // newest version number; 0 before the first
	Created time.Time
	Updated time.Time
}

// NotebookVersion is one immutable version of a notebook; its content is
// the blob Digest.
type NotebookVersion struct {
	NotebookID int64
	Version    int
	Format     string // ipynb | py
	Digest     string
	Size       int64
	Author     string
	// Source is where the version came from: "" for a push through the
	// API, "container:NAME" for one the notebook sync stored out of a
	// container (Author is then the container's owner).
	Source  string
	Created time.Time
}

// NotebookStore keeps notebooks and their versions.
type NotebookStore interface {
	Transactor
	// CreateNotebook inserts n (ID and Latest are assigned); ErrConflict
	// when (App, Name, ScopeOwner, Owner) is taken.
	CreateNotebook(ctx context.Context, n Notebook) (Notebook, error)
	GetNotebook(ctx context.Context, id int64) (Notebook, error)
	// FindNotebooks returns every notebook called name, in any app.
	FindNotebooks(ctx context.Context, name string) ([]Notebook, error)
	// ListNotebooks returns every notebook ordered by name, app, owner; the
	// caller filters what its reader may see.
	ListNotebooks(ctx context.Context) ([]Notebook, error)
	// UpdateNotebook changes the sharing and roles of n.ID.
	UpdateNotebook(ctx context.Context, n Notebook) error
	// DeleteNotebook removes the notebook and its versions.
	DeleteNotebook(ctx context.Context, id int64) error
	// AddNotebookVersion numbers v as the notebook's next version, stores
	// it and returns it.
	AddNotebookVersion(ctx context.Context, id int64, v NotebookVersion) (NotebookVersion, error)
	// NotebookVersions returns the versions of id, oldest first.
	NotebookVersions(ctx context.Context, id int64) ([]NotebookVersion, error)
}
