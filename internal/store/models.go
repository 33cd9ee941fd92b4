package store

import (
	"context"
	"time"
)

// Model is the stored record of a model: a knowledge object with an owner,
// an app, a sharing level and read and write roles. ScopeOwner is derived:
// the owner when Sharing is "user", "" otherwise; (App, Name, ScopeOwner,
// Owner) is unique, so every user may keep one private and one shared model
// of a name in an app, beside other users' (the services refuse a second
// shared one the caller can see; one it cannot see must not change answers).
type Model struct {
	ID          int64
	Name        string
	App         string
	Owner       string
	Sharing     string // "user" | "app" | "global"
	Read        []string
	Write       []string
	Description string
	Tags        []string
	Latest      int    // highest version number ever allocated (never reused)
	Current     int    // version the "current" alias points to; 0 before the first
	Algo        string // algo of the current version
	Created     time.Time
	Updated     time.Time
}

// ModelVersion is one immutable version of a model. Digest names the
// canonical manifest blob; Params, FitInfo and Lineage are JSON documents
// the registry encodes.
type ModelVersion struct {
	ModelID int64
	Version int
	Digest  string
	Creator string
	Created time.Time
	Algo    string
	Params  string // JSON object of strings
	FitInfo string // JSON object
	Lineage string // JSON object
	Files   int
	Size    int64
}

// ModelAlias is a named pointer at a version.
type ModelAlias struct {
	Alias     string
	Version   int
	Updated   time.Time
	UpdatedBy string
}

// AliasMove records one move of an alias. From is 0 when the alias was
// created, To is 0 when it was removed.
type AliasMove struct {
	ID     int64
	Alias  string
	From   int
	To     int
	User   string
	At     time.Time
	Reason string
}

// Viewer is who lists models: the list holds only models the viewer may
// read (owner, admin_all_objects, or sharing that reaches App with a
// matching read or write role), decided in the query itself.
type Viewer struct {
	User  string
	Roles []string // effective roles
	App   string
	All   bool // admin_all_objects: sees every model
	// Apps are the apps whose shared models the viewer may see (the apps
	// it may read); nil means every app. The viewer's own models show
	// wherever they are.
	Apps []string
}

// ModelQuery selects a page of models. Empty filter fields do not filter.
type ModelQuery struct {
	Viewer  Viewer
	App     string
	Owner   string
	Sharing string
	Algo    string // algo of the current version
	Tag     string
	Name    string // exact name
	Search  string // case-insensitive substring of the name
	Limit   int    // page size, > 0
	After   string // cursor from the previous page's Next; "" starts at the top
}

// ModelPage is one page of a listing, ordered by name then id. Next is
// the cursor of the next page, "" on the last one.
type ModelPage struct {
	Models []Model
	Next   string
}

// NewVersion is a version to add together with the alias move it causes.
type NewVersion struct {
	Version ModelVersion // Version number and ModelID are assigned by the store
	Alias   string       // alias to move to the new version ("current")
	Reason  string       // recorded in the alias history
}

// ModelStore keeps models, their versions, aliases and alias history.
type ModelStore interface {
	Transactor
	// CreateModel inserts m (ID, Latest, Current are ignored) and returns
	// it with its ID; ErrConflict if (App, Name, ScopeOwner, Owner) is taken.
	CreateModel(ctx context.Context, m Model) (Model, error)
	GetModel(ctx context.Context, id int64) (Model, error)
	// FindModels returns every model called name, in any app, ordered by
	// app, then owner. The caller decides which it may see.
	FindModels(ctx context.Context, name string) ([]Model, error)
	ListModels(ctx context.Context, q ModelQuery) (ModelPage, error)
	// UpdateModel changes sharing, roles, description and tags of m.ID;
	// ErrConflict if the new sharing collides with another model's scope.
	UpdateModel(ctx context.Context, m Model) error
	// DeleteModel removes the model, its versions, aliases and history.
	DeleteModel(ctx context.Context, id int64) error
	// ModelsWithoutVersions returns every model that has no version (left
	// by a version of Dockyard that created a model before its first
	// version), ordered by id.
	ModelsWithoutVersions(ctx context.Context) ([]Model, error)

	// AddModelVersion allocates the next version number of the model,
	// inserts the version and moves the alias to it, all in one transaction.
	AddModelVersion(ctx context.Context, modelID int64, nv NewVersion) (ModelVersion, AliasMove, error)
	GetModelVersion(ctx context.Context, modelID int64, version int) (ModelVersion, error)
	ListModelVersions(ctx context.Context, modelID int64) ([]ModelVersion, error) // newest first
	// PruneModelVersions deletes every version that is neither among the
	// newest keep nor the target of an alias, and returns their numbers.
	PruneModelVersions(ctx context.Context, modelID int64, keep int) ([]int, error)

	// SetModelAlias points alias at version (ErrNotFound if the version does
	// not exist) and records the move; moving "current" also updates the
	// model's Current and Algo.
	SetModelAlias(ctx context.Context, modelID int64, alias string, version int, user, reason string, at time.Time) (AliasMove, error)
	// DeleteModelAlias removes alias and records the move.
	DeleteModelAlias(ctx context.Context, modelID int64, alias, user, reason string, at time.Time) (AliasMove, error)
	ListModelAliases(ctx context.Context, modelID int64) ([]ModelAlias, error)     // by alias
	ListModelAliasHistory(ctx context.Context, modelID int64) ([]AliasMove, error) // oldest first
}
