package wire

import "time"

// Image is an entry of the image catalogue: a name containers start from,
// the reference an administrator gave, the digest it was pinned to and
// what the runtime is given to run exactly that content (RunRef).
type Image struct {
	Name       string    `json:"name"`
	Runtime    string    `json:"runtime"`
	Ref        string    `json:"ref"`
	Digest     string    `json:"digest,omitempty"`
	RunRef     string    `json:"run_ref,omitempty"`
	Source     string    `json:"source,omitempty"` // registry, engine or executable
	Title      string    `json:"title,omitempty"`
	GPU        bool      `json:"gpu"`
	Builtin    bool      `json:"builtin"`
	Default    bool      `json:"default"`
	Containers int       `json:"containers"` // container records that use it
	CreatedBy  string    `json:"created_by,omitempty"`
	Created    time.Time `json:"created,omitzero"`
	UpdatedBy  string    `json:"updated_by,omitempty"`
	Updated    time.Time `json:"updated,omitzero"`
}

// ImageAdd adds a catalogue entry: Ref is resolved to a digest and pinned.
// Runtime is docker (the default) or process (no Ref: the dockyard
// executable).
type ImageAdd struct {
	Name    string `json:"name"`
	Ref     string `json:"ref,omitempty"`
	Title   string `json:"title,omitempty"`
	GPU     bool   `json:"gpu,omitempty"`
	Runtime string `json:"runtime,omitempty"`
}

// ImageUpdate changes an entry (nil fields stay) and re-pins it to what
// its reference names now.
type ImageUpdate struct {
	Ref   *string `json:"ref,omitempty"`
	Title *string `json:"title,omitempty"`
	GPU   *bool   `json:"gpu,omitempty"`
}
