package wire

import "time"

// Notebook is a notebook as `notebooks list -o json` shows it, with its
// newest version.
type Notebook struct {
	Name    string    `json:"name"`
	App     string    `json:"app"`
	Owner   string    `json:"owner"`
	Sharing string    `json:"sharing"`
	Read    []string  `json:"read"`
	Write   []string  `json:"write"`
	Version int       `json:"version"`
	Format  string    `json:"format"`
	Digest  string    `json:"digest"`
	Size    int64     `json:"size"`
	Author  string    `json:"author"`
	Updated time.Time `json:"updated"`
	Created time.Time `json:"created"`
}

// NotebookVersion is one entry of `notebooks history NAME -o json`.
type NotebookVersion struct {
	Version int       `json:"version"`
	Digest  string    `json:"digest"`
	Size    int64     `json:"size"`
	Author  string    `json:"author"`
	Created time.Time `json:"created"`
	Format  string    `json:"format"`
	// Source is "" for a push, "container:NAME" for a version the sync
	// stored out of that container (Author is its owner).
	Source string `json:"source,omitempty"`
}

// NotebookPush is the answer of a push: the notebook and whether a new
// version was stored.
type NotebookPush struct {
	Notebook
	Changed bool `json:"changed"`
}
