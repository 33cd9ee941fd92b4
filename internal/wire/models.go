package wire

import "time"

// ModelPerms says what the caller may do with a model.
type ModelPerms struct {
	Read  bool `json:"read"`
	Write bool `json:"write"`
	Share bool `json:"share"`
}

// Model is one entry of `models list -o json`.
type Model struct {
	Name        string     `json:"name"`
	App         string     `json:"app"`
	Owner       string     `json:"owner"`
	Sharing     string     `json:"sharing"`
	Read        []string   `json:"read"`
	Write       []string   `json:"write"`
	Description string     `json:"description"`
	Tags        []string   `json:"tags"`
	Current     int        `json:"current"` // version the current alias points at; 0 before the first
	Latest      int        `json:"latest"`
	Algo        string     `json:"algo"`
	Created     time.Time  `json:"created"`
	Updated     time.Time  `json:"updated"`
	Perms       ModelPerms `json:"perms"`
}

// ModelPage answers GET /v1/models: one page, ordered by name; Next is the
// cursor of the next page ("" on the last).
type ModelPage struct {
	Models []Model `json:"models"`
	Next   string  `json:"next,omitempty"`
}

// ModelSummary is `models show MODEL -o json`: the model and one version
// (the current one unless MODEL names another).
type ModelSummary struct {
	Name         string            `json:"name"`
	App          string            `json:"app"`
	Owner        string            `json:"owner"`
	Sharing      string            `json:"sharing"`
	ReadRoles    []string          `json:"read_roles"`
	WriteRoles   []string          `json:"write_roles"`
	Perms        ModelPerms        `json:"perms"`
	Description  string            `json:"description"`
	Tags         []string          `json:"tags"`
	Version      int               `json:"version"`
	Digest       string            `json:"digest"`
	Algo         string            `json:"algo"`
	Created      time.Time         `json:"created"`
	Creator      string            `json:"creator"`
	Params       map[string]string `json:"params"`
	FitInfo      map[string]any    `json:"fit_info"`
	ModelLineage                   // where the version came from, flattened into the summary
	Files        int               `json:"files"`
	Size         int64             `json:"size"`
	Aliases      map[string]int    `json:"aliases"`
}

// ModelLineage says where a version came from (filled by fit).
type ModelLineage struct {
	Notebook       string `json:"notebook,omitempty"`
	NotebookDigest string `json:"notebook_digest,omitempty"`
	// NotebookVersion, NotebookFormat and NotebookID name the stored
	// notebook version whose content (NotebookDigest) the fit ran.
	NotebookVersion int    `json:"notebook_version,omitempty"`
	NotebookFormat  string `json:"notebook_format,omitempty"`
	NotebookID      int64  `json:"notebook_id,omitempty"`
	// NotebookPinned is set only by a fit on this server: apply and
	// summary then run exactly the content NotebookDigest names, for
	// anyone who may read the model. An imported version never has it
	// (an archive could name any digest); it runs the notebook Notebook
	// as the caller resolves it.
	NotebookPinned  bool     `json:"notebook_pinned,omitempty"`
	Image           string   `json:"image,omitempty"`
	ImageDigest     string   `json:"image_digest,omitempty"`
	Container       string   `json:"container,omitempty"`
	Runtime         string   `json:"runtime,omitempty"`
	Rows            int64    `json:"rows,omitempty"`
	Features        []string `json:"features,omitempty"`
	Target          string   `json:"target,omitempty"`
	DataFingerprint string   `json:"data_fingerprint,omitempty"`
	// SignedBy is set by an import of a signed archive (a bundle): the
	// trusted key that signed it ("site-b (sha256:...)"), or "untrusted
	// key sha256:..." when the signature verified with a key this server
	// does not trust. An archive's own value is never kept.
	SignedBy string `json:"signed_by,omitempty"`
}

// ModelVersion is one entry of `models versions MODEL -o json` and the
// answer of an import.
type ModelVersion struct {
	Model   string            `json:"model"`
	App     string            `json:"app"`
	Version int               `json:"version"`
	Digest  string            `json:"digest"`
	Created time.Time         `json:"created"`
	Creator string            `json:"creator"`
	Algo    string            `json:"algo"`
	Params  map[string]string `json:"params"`
	FitInfo map[string]any    `json:"fit_info"`
	Lineage ModelLineage      `json:"lineage"`
	Files   int               `json:"files"`
	Size    int64             `json:"size"`
	Aliases []string          `json:"aliases"`
}

// ModelAliasMove is one entry of `models history MODEL -o json`: From 0
// means the alias was created, To 0 that it was removed.
type ModelAliasMove struct {
	Alias  string    `json:"alias"`
	From   int       `json:"from"`
	To     int       `json:"to"`
	User   string    `json:"user"`
	Time   time.Time `json:"time"`
	Reason string    `json:"reason"`
}

// ModelAliasRequest is the body of POST /v1/models/{ref}/aliases.
type ModelAliasRequest struct {
	Alias   string `json:"alias"`
	Version int    `json:"version"`
	Reason  string `json:"reason,omitempty"`
}

// ModelRollbackRequest is the body of POST /v1/models/{ref}/rollback.
type ModelRollbackRequest struct {
	To     int    `json:"to"`
	Reason string `json:"reason,omitempty"`
}

// ModelShareRequest is the body of POST /v1/models/{ref}/share. An empty
// Sharing, or a nil role list, keeps the model's current value.
type ModelShareRequest struct {
	Sharing string    `json:"sharing,omitempty"`
	Read    *[]string `json:"read,omitempty"`
	Write   *[]string `json:"write,omitempty"`
}

// ModelUpdateRequest is the body of PATCH /v1/models/{ref}: an absent field
// is kept; "tags": [] removes every tag.
type ModelUpdateRequest struct {
	Description *string   `json:"description,omitempty"`
	Tags        *[]string `json:"tags,omitempty"`
}
