package wire

import (
	"encoding/json"
	"time"
)

// Image is an entry of the image catalogue: a name containers start from,
// the reference an administrator gave, the digest it was pinned to and
// what the runtime is given to run exactly that content (RunRef).
type Image struct {
	Name       string `json:"name"`
	Runtime    string `json:"runtime"`
	Ref        string `json:"ref"`
	Digest     string `json:"digest,omitempty"`
	RunRef     string `json:"run_ref,omitempty"`
	Source     string `json:"source,omitempty"` // registry, engine or executable
	Title      string `json:"title,omitempty"`
	GPU        bool   `json:"gpu"`
	Builtin    bool   `json:"builtin"`
	Default    bool   `json:"default"`
	Containers int    `json:"containers"`       // container records that use it
	Policy     string `json:"policy,omitempty"` // what the image policy decides for a start now (images show)
	// Signatures is how many stored signatures name the pinned content,
	// Exceptions how many CVE exceptions have not expired (images show).
	Signatures int       `json:"signatures,omitempty"`
	Exceptions int       `json:"exceptions,omitempty"`
	CreatedBy  string    `json:"created_by,omitempty"`
	Created    time.Time `json:"created,omitzero"`
	UpdatedBy  string    `json:"updated_by,omitempty"`
	Updated    time.Time `json:"updated,omitzero"`

	// Scan is what images.scanner_command found at this add or update
	// ("failed: ..." when it failed; empty when no scanner is configured).
	Scan string `json:"scan,omitempty"`
	// Cert is the operator certificate pair its agents serve (absent:
	// one the server CA issues).
	Cert string `json:"cert,omitempty"`
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
	// Cert names an operator certificate pair (containers.certs_dir)
	// the entry's agents serve.
	Cert string `json:"cert,omitempty"`
}

// ImageUpdate changes an entry (nil fields stay) and re-pins it to what
// its reference names now.
type ImageUpdate struct {
	Ref   *string `json:"ref,omitempty"`
	Title *string `json:"title,omitempty"`
	GPU   *bool   `json:"gpu,omitempty"`
	// Cert names another operator certificate pair ("" for none).
	Cert *string `json:"cert,omitempty"`
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

// ScanImport imports a vulnerability scan report (Trivy JSON, Grype JSON
// or CycloneDX with vulnerabilities) for a catalogue entry.
type ScanImport struct {
	Report json.RawMessage `json:"report"`
}

// ImageScan is an imported scan report: the digest it is bound to, when
// it ran and its findings counted by severity.
type ImageScan struct {
	ID         int64          `json:"id"`
	Image      string         `json:"image"`
	Digest     string         `json:"digest"`
	Format     string         `json:"format"`
	Scanned    time.Time      `json:"scanned"`
	Findings   int            `json:"findings"`
	BySeverity map[string]int `json:"by_severity"`
}

// ImagePolicy is the scan gate of container starts. MaxScanAge is a Go
// duration ("720h"; "" or "0s" for no limit).
type ImagePolicy struct {
	MaxSeverity string `json:"max_severity"`
	RequireScan bool   `json:"require_scan"`
	MaxScanAge  string `json:"max_scan_age"`

	RequireSignature bool `json:"require_signature"`
}

// ImagePolicyUpdate changes the given fields of the policy.
type ImagePolicyUpdate struct {
	MaxSeverity *string `json:"max_severity,omitempty"`
	RequireScan *bool   `json:"require_scan,omitempty"`
	MaxScanAge  *string `json:"max_scan_age,omitempty"`

	RequireSignature *bool `json:"require_signature,omitempty"`
}

// ImageException lets a CVE of an image pass the policy until a time.
type ImageException struct {
	Image     string    `json:"image,omitempty"`
	CVE       string    `json:"cve"`
	Until     time.Time `json:"until"`
	Reason    string    `json:"reason"`
	CreatedBy string    `json:"created_by,omitempty"`
	Created   time.Time `json:"created,omitzero"`
	// Expired is true once Until has passed (images exceptions list): the
	// CVE refuses starts again.
	Expired bool `json:"expired,omitempty"`
}
