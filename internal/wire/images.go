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

// Registry is a private registry as listed: whether a CA verifies it and
// the user whose credentials are stored; never the password.
type Registry struct {
	Host      string    `json:"host"`
	CA        bool      `json:"ca"`                 // a CA of its own verifies it (else the system's roots)
	Username  string    `json:"username,omitempty"` // "" when no credentials are stored
	CreatedBy string    `json:"created_by,omitempty"`
	Created   time.Time `json:"created,omitzero"`
	UpdatedBy string    `json:"updated_by,omitempty"`
	Updated   time.Time `json:"updated,omitzero"`
}

// RegistryAdd adds a private registry, with the PEM of the CA that
// verifies it ("" for the system's roots).
type RegistryAdd struct {
	Host  string `json:"host"`
	CAPEM string `json:"ca_pem,omitempty"`
}

// RegistryLogin stores the credentials for a registry; the password is
// sealed at rest and never shown again.
type RegistryLogin struct {
	Username string `json:"username"`
	Password string `json:"password"`
}
