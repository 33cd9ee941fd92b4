package api

import (
	"net/http"

	"github.com/dockyard/dockyard/internal/wire"
)

// openapiSpec is what the OpenAPI description says of one route beyond
// what the route itself declares (method, path, capability, action).
type openapiSpec struct {
	Summary     string
	Description string
	OperationID string // default: the route's Action
	// Request is a value of the JSON body's type; nil: no JSON body.
	Request any
	// RequestType is the media type of a body that is not JSON (a tar
	// archive, a CSV table, a notebook's bytes).
	RequestType string
	// Response is a value of the answer's type (JSON unless ResponseType
	// names another, e.g. application/x-ndjson of one frame type); nil with
	// ResponseType: opaque bytes of that type.
	Response     any
	ResponseType string
	ResponseText string
	Status       int // of success; default 200
	Query        []queryParam
	PathText     map[string]string // path parameter → description
	Headers      map[string]string // response header → description
}

type queryParam struct {
	Name     string
	Type     string // JSON Schema type; default string
	Enum     []any
	Required bool
	Text     string
}

// Small answers that have no wire type of their own.
type (
	statusAnswer struct {
		Status string `json:"status"`
	}
	deletedAnswer struct {
		Deleted string `json:"deleted"`
	}
	namedStatusAnswer struct {
		Status string `json:"status"`
		Name   string `json:"name"`
		App    string `json:"app,omitempty"`
	}
)

const (
	tarType       = "application/x-tar"
	ndjsonType    = "application/x-ndjson"
	csvType       = "text/csv"
	textType      = "text/plain"
	octetType     = "application/octet-stream"
	refText       = "The model: [app:]NAME[@VERSION|@ALIAS], path-escaped."
	ownerText     = "The owner of a private model (for holders of admin_all_objects)."
	lookupAppText = "The app of the lookup; default: the request's app."
	forceText     = "true: stop at once, without waiting for the container's work to end."
	sharingText   = "user, app or global."
)

var (
	modelOwner  = queryParam{Name: "owner", Text: ownerText}
	modelRef    = map[string]string{"ref": refText}
	lookupAppQ  = queryParam{Name: "app", Text: lookupAppText}
	forceParamQ = queryParam{Name: "force", Type: "boolean", Text: forceText}
)

// openapiSpecs describes every route, keyed "METHOD pattern". The OpenAPI
// coverage test fails on a route without an entry and an entry without a
// route.
var openapiSpecs = map[string]openapiSpec{
	// system
	"GET /healthz": {OperationID: "health", Summary: "Health check", Response: statusAnswer{}},
	"GET " + OpenAPIPath: {OperationID: "openapi", Summary: "This OpenAPI description",
		Description: "The OpenAPI 3.1 description of every route, made from the server's route table and wire types.",
		Response:    map[string]any{}},

	// access
	"POST /v1/login": {Summary: "Log in", Description: "Checks the password and answers a session token.",
		Request: wire.LoginRequest{}, Response: wire.LoginResponse{}},
	"POST /v1/logout": {Summary: "Log out", Description: "Revokes the token of the request.", Response: statusAnswer{}},
	"GET /v1/whoami":  {OperationID: "whoami", Summary: "The caller: user, roles, capabilities, app", Response: wire.Whoami{}},
	"GET /v1/users":   {Summary: "List users", Response: []wire.User{}},
	"POST /v1/users":  {Summary: "Create a user", Request: wire.UserRequest{}, Response: wire.User{}, Status: http.StatusCreated},
	"PATCH /v1/users/{name}": {Summary: "Change a user", Description: "Fields left out are kept.",
		Request: wire.UserRequest{}, Response: wire.User{}},
	"DELETE /v1/users/{name}": {Summary: "Delete a user", Response: deletedAnswer{}},
	"GET /v1/roles":           {Summary: "List roles", Response: []wire.Role{}},
	"POST /v1/roles":          {Summary: "Create a role", Request: wire.RoleRequest{}, Response: wire.Role{}, Status: http.StatusCreated},
	"PATCH /v1/roles/{name}":  {Summary: "Change a role's capabilities, inherited roles and search indexes", Request: wire.RoleRequest{}, Response: wire.Role{}},
	"DELETE /v1/roles/{name}": {Summary: "Delete a role", Response: deletedAnswer{}},
	"GET /v1/tokens": {Summary: "List API tokens", Response: []wire.Token{},
		Query: []queryParam{{Name: "all", Type: "boolean", Text: "true: every user's tokens (for holders of edit_tokens_all)."}}},
	"POST /v1/tokens": {Summary: "Create an API token", Description: "The secret is in this answer only.",
		Request: wire.TokenRequest{}, Response: wire.NewToken{}, Status: http.StatusCreated},
	"DELETE /v1/tokens/{id}": {Summary: "Revoke an API token", Response: struct {
		Revoked string `json:"revoked"`
	}{}},

	// apps
	"GET /v1/apps":           {Summary: "List the apps the caller may read", Response: []wire.App{}},
	"GET /v1/apps/{name}":    {Summary: "Show an app", Response: wire.App{}},
	"POST /v1/apps":          {Summary: "Create an app", Request: wire.AppRequest{}, Response: wire.App{}, Status: http.StatusCreated},
	"PATCH /v1/apps/{name}":  {Summary: "Change an app's roles", Request: wire.AppRequest{}, Response: wire.App{}},
	"DELETE /v1/apps/{name}": {Summary: "Delete an app", Response: deletedAnswer{}},

	// models
	"GET /v1/models": {Summary: "List models", Description: "One page, ordered by name; next is the cursor of the next page.",
		Response: wire.ModelPage{}, Query: []queryParam{
			{Name: "app", Text: "Only models of this app."},
			{Name: "owner", Text: "Only models of this owner."},
			{Name: "sharing", Text: "Only models shared so: " + sharingText},
			{Name: "algo", Text: "Only models of this algorithm."},
			{Name: "tag", Text: "Only models with this tag."},
			{Name: "search", Text: "Only models whose name or description contains this."},
			{Name: "after", Text: "The cursor of the page: next of the previous one."},
			{Name: "limit", Type: "integer", Text: "The page size, from 1."},
		}},
	"GET /v1/models/{ref}": {Summary: "Show a model and one version", Response: wire.ModelSummary{},
		Query: []queryParam{modelOwner}, PathText: modelRef},
	"DELETE /v1/models/{ref}": {Summary: "Delete a model or one version", Status: http.StatusNoContent,
		Query: []queryParam{modelOwner}, PathText: modelRef},
	"GET /v1/models/{ref}/versions": {Summary: "List a model's versions", Response: []wire.ModelVersion{},
		Query: []queryParam{modelOwner}, PathText: modelRef},
	"POST /v1/models/{ref}/versions": {Summary: "Import a version from a tar archive",
		Description: "The body is a tar archive in the format of the export; anything damaged, missing or extra registers nothing.",
		RequestType: tarType, Response: wire.ModelVersion{}, Status: http.StatusCreated, PathText: modelRef,
		Query: []queryParam{modelOwner,
			{Name: "algo", Text: "Replaces the archive's algorithm."},
			{Name: "source", Enum: []any{"archive", "dir"}, Text: "What the history records: an archive (default) or a directory the client packed."},
			{Name: "require_signature", Text: "true refuses an archive not signed by this server or a trusted site (models keys)."}}},
	"GET /v1/models/{ref}/history": {Summary: "List a model's alias moves", Response: []wire.ModelAliasMove{},
		Query: []queryParam{modelOwner}, PathText: modelRef},
	"POST /v1/models/{ref}/aliases": {Summary: "Set an alias", Request: wire.ModelAliasRequest{}, Response: wire.ModelAliasMove{},
		Query: []queryParam{modelOwner}, PathText: modelRef},
	"DELETE /v1/models/{ref}/aliases/{alias}": {Summary: "Remove an alias", Response: wire.ModelAliasMove{},
		Query:    []queryParam{modelOwner, {Name: "reason", Text: "Recorded in the history."}},
		PathText: map[string]string{"ref": refText, "alias": "The alias (not current)."}},
	"PATCH /v1/models/{ref}": {Summary: "Change a model's description and tags", Request: wire.ModelUpdateRequest{}, Response: wire.Model{},
		Query: []queryParam{modelOwner}, PathText: modelRef},
	"POST /v1/models/{ref}/rollback": {Summary: "Point current at an earlier version", Request: wire.ModelRollbackRequest{},
		Response: wire.ModelAliasMove{}, Query: []queryParam{modelOwner}, PathText: modelRef},
	"POST /v1/models/{ref}/share": {Summary: "Change a model's sharing and roles", Request: wire.ModelShareRequest{}, Response: wire.Model{},
		Query: []queryParam{modelOwner}, PathText: modelRef},
	"GET /v1/models/{ref}/export": {Summary: "Export a version as a tar archive", ResponseType: tarType,
		Query: []queryParam{modelOwner}, PathText: modelRef,
		Headers: map[string]string{"Dockyard-Model-Version": "The version exported.", "Dockyard-Model-Digest": "Its digest."}},

	// notebooks
	"GET /v1/notebooks": {Summary: "List notebooks", Response: []wire.Notebook{}},
	"PUT /v1/notebooks/{name}": {Summary: "Push a notebook", Description: "The body is the notebook's bytes; a new version is stored when they changed.",
		RequestType: octetType, Response: wire.NotebookPush{}, Query: []queryParam{
			{Name: "format", Required: true, Enum: []any{"ipynb", "py"}, Text: "What the bytes are."},
			{Name: "sharing", Text: "The sharing of a notebook this push creates: " + sharingText}}},
	"GET /v1/notebooks/{name}":         {Summary: "Show a notebook", Response: wire.Notebook{}},
	"GET /v1/notebooks/{name}/history": {Summary: "List a notebook's versions", Response: []wire.NotebookVersion{}},
	"GET /v1/notebooks/{name}/content": {Summary: "A version's bytes", ResponseType: octetType,
		Query: []queryParam{{Name: "version", Type: "integer", Text: "The version, from 1; default the newest."}},
		Headers: map[string]string{"Dockyard-Notebook-Version": "The version.", "Dockyard-Notebook-Format": "ipynb or py.",
			"Dockyard-Notebook-Digest": "The digest of the bytes."}},
	"POST /v1/notebooks/{name}/share": {Summary: "Change a notebook's sharing and roles", Request: wire.LookupShare{}, Response: wire.Notebook{}},
	"DELETE /v1/notebooks/{name}":     {Summary: "Delete a notebook", Response: namedStatusAnswer{}},

	// containers
	"GET /v1/containers":               {Summary: "List containers", Response: []wire.Container{}},
	"POST /v1/containers/{name}/start": {Summary: "Start a container", Request: wire.ContainerStart{}, Response: wire.Container{}},
	"POST /v1/containers/{name}/stop": {Summary: "Stop a container", Response: wire.Container{},
		Query: []queryParam{forceParamQ}},
	"DELETE /v1/containers/{name}": {Summary: "Remove a container", Query: []queryParam{forceParamQ}, Response: struct {
		Removed string `json:"removed"`
	}{}},
	"GET /v1/containers/{name}/logs": {Summary: "A container's logs, streamed", ResponseType: textType,
		Query: []queryParam{{Name: "since", Text: "Only lines from this RFC 3339 time."}}},
	"POST /v1/containers/{name}/register":       {Summary: "Register an external container", Request: wire.ContainerRegister{}, Response: wire.Container{}},
	"POST /v1/containers/{name}/share":          {Summary: "Share a container with roles", Request: wire.ContainerShare{}, Response: wire.Container{}},
	"GET /v1/images":                            {Summary: "List the image catalogue", Response: []wire.Image{}},
	"GET /v1/images/{name}":                     {Summary: "Show a catalogue entry and what the policy decides for it", Response: wire.Image{}},
	"POST /v1/images":                           {Summary: "Add a catalogue entry, pinned by digest", Request: wire.ImageAdd{}, Response: wire.Image{}, Status: http.StatusCreated},
	"PATCH /v1/images/{name}":                   {Summary: "Change or re-pin a catalogue entry", Request: wire.ImageUpdate{}, Response: wire.Image{}},
	"DELETE /v1/images/{name}":                  {Summary: "Remove a catalogue entry", Response: removedName{}},
	"POST /v1/images/{name}/scans":              {Summary: "Import a scan report bound to the entry's digest", Request: wire.ScanImport{}, Response: wire.ImageScan{}, Status: http.StatusCreated},
	"POST /v1/images/{name}/exceptions":         {Summary: "Allow a CVE on an entry until a date", Request: wire.ImageException{}, Response: wire.ImageException{}, Status: http.StatusCreated},
	"GET /v1/images/{name}/exceptions":          {Summary: "List an entry's CVE exceptions, expired ones too", Response: []wire.ImageException{}},
	"DELETE /v1/images/{name}/exceptions/{cve}": {Summary: "Remove a CVE exception: the CVE refuses starts again", Response: wire.ImageException{}},
	"GET /v1/image-policy":                      {Summary: "Show the image policy", Response: wire.ImagePolicy{}},
	"PATCH /v1/image-policy":                    {Summary: "Change the image policy", Request: wire.ImagePolicyUpdate{}, Response: wire.ImagePolicy{}},
	"GET /v1/registries":                        {Summary: "List private registries", Response: []wire.Registry{}},
	"POST /v1/registries":                       {Summary: "Add a private registry", Request: wire.RegistryAdd{}, Response: wire.Registry{}, Status: http.StatusCreated},
	"POST /v1/registries/{host}/login":          {Summary: "Store a registry's credentials, sealed", Request: wire.RegistryLogin{}, Response: wire.Registry{}},
	"DELETE /v1/registries/{host}":              {Summary: "Remove a registry and its credentials", Response: removedName{}},
	"GET /v1/gpus":                              {Summary: "GPU inventory: each runtime's pools, who holds GPUs, and your limit", Response: wire.GPUInventory{}},
	"GET /v1/gpu/quotas":                        {Summary: "List the GPU quotas", Response: []wire.GPUQuota{}},
	"PUT /v1/gpu/quotas/{kind}/{name}":          {Summary: "Set the GPU quota of a user or of each member of a role", Request: wire.GPUQuotaSet{}, Response: wire.GPUQuota{}},
	"DELETE /v1/gpu/quotas/{kind}/{name}":       {Summary: "Remove a GPU quota", Response: wire.GPUQuota{}},
	"GET /v1/images/{name}/archive":             {Summary: "Save an entry as an OCI image-layout archive with its signatures and scan report", ResponseType: "application/x-tar"},
	"POST /v1/image-archives": {Summary: "Load an image archive: verify it, push or load it, add the entry", RequestType: "application/x-tar", Response: wire.Image{}, Status: http.StatusCreated,
		Query: []queryParam{{Name: "name", Text: "The entry's name (default: the archive's)."}, {Name: "push", Text: "HOST[:PORT]/REPO to push to (default: load into the Docker Engine)."}}},
	"GET /v1/model-keys/server":                {Summary: "This server's public key, which signs its model exports", Response: wire.SigningKey{}},
	"GET /v1/model-keys":                       {Summary: "List the keys of other sites whose signed model archives are trusted", Response: []wire.SigningKey{}},
	"POST /v1/model-keys":                      {Summary: "Trust another site's key for signed model archives", Request: wire.SigningKeyAdd{}, Response: wire.SigningKey{}, Status: http.StatusCreated},
	"DELETE /v1/model-keys/{name}":             {Summary: "Stop trusting another site's model key", Response: removedName{}},
	"GET /v1/image-keys":                       {Summary: "List the public keys image signatures are verified with", Response: []wire.SigningKey{}},
	"POST /v1/image-keys":                      {Summary: "Trust a public key for image signatures", Request: wire.SigningKeyAdd{}, Response: wire.SigningKey{}, Status: http.StatusCreated},
	"DELETE /v1/image-keys/{name}":             {Summary: "Stop trusting an image signing key", Response: removedName{}},
	"POST /v1/images/{name}/signatures":        {Summary: "Store a signature of the entry's pinned digest", Request: wire.ImageSignatureAdd{}, Response: wire.ImageSignature{}, Status: http.StatusCreated},
	"GET /jupyter/{owner}/{name}/{rest...}":    jupyterSpec("get"),
	"POST /jupyter/{owner}/{name}/{rest...}":   jupyterSpec("post"),
	"PUT /jupyter/{owner}/{name}/{rest...}":    jupyterSpec("put"),
	"PATCH /jupyter/{owner}/{name}/{rest...}":  jupyterSpec("patch"),
	"DELETE /jupyter/{owner}/{name}/{rest...}": jupyterSpec("delete"),

	// telemetry
	"GET /metrics":                   {OperationID: "metrics", Summary: "Prometheus metrics", ResponseType: textType},
	"GET /v1/settings/observability": {Summary: "Show the observability settings", Response: wire.ObservabilitySettings{}},
	"PUT /v1/settings/observability": {Summary: "Change the observability settings", Description: "Fields left out keep their value.",
		Request: wire.ObservabilityUpdate{}, Response: wire.ObservabilitySettings{}},

	// admin
	"POST /v1/admin/gc": {Summary: "Collect unreferenced blobs", Response: wire.GCResult{},
		Query: []queryParam{{Name: "grace", Text: "A duration such as 1h that overrides storage.gc_grace; 0s collects every unreferenced blob."}}},
	"GET /v1/admin/backup": {Summary: "A backup archive of the server", Description: "It holds every secret the server keeps.",
		ResponseType: tarType},

	// search
	"POST /v1/search": {Summary: "Run a search", Description: "Answers NDJSON: one SearchFrame a line (rows, progress now and then), " +
		"ending with a done or an error frame; a stream without one was cut off. Errors before the first frame are ordinary error answers.",
		Request: wire.SearchRequest{}, Response: wire.SearchFrame{}, ResponseType: ndjsonType},

	// lookups
	"POST /v1/lookups": {Summary: "Upload a CSV lookup table", RequestType: csvType, Response: wire.Lookup{},
		Query: []queryParam{{Name: "name", Required: true, Text: "The lookup's name, NAME.csv."}, lookupAppQ}},
	"GET /v1/lookups":             {Summary: "List lookups", Response: []wire.Lookup{}, Query: []queryParam{lookupAppQ}},
	"GET /v1/lookups/{name}":      {Summary: "Download a lookup", ResponseType: csvType, Query: []queryParam{lookupAppQ}, Headers: map[string]string{"Dockyard-Lookup-App": "The lookup's app.", "Dockyard-Lookup-Digest": "The digest of the table."}},
	"GET /v1/lookups/{name}/info": {Summary: "Show a lookup", Response: wire.Lookup{}, Query: []queryParam{lookupAppQ}},
	"DELETE /v1/lookups/{name}":   {Summary: "Delete a lookup", Response: namedStatusAnswer{}, Query: []queryParam{lookupAppQ}},
	"POST /v1/lookups/{name}/share": {Summary: "Change a lookup's sharing and roles", Request: wire.LookupShare{}, Response: wire.Lookup{},
		Query: []queryParam{lookupAppQ}},

	// audit
	"GET /v1/audit/verify": {Summary: "Verify the audit chain", Description: "A broken chain is an answer: ok false, the first bad event and why.",
		Response: wire.AuditVerify{}},
	"GET /v1/audit/export": {Summary: "Export the audit trail", Description: "JSON lines, one event a line.", ResponseType: ndjsonType,
		Response: map[string]any{}},
	"GET /v1/audit/key": {Summary: "The public key of the audit trail (PEM)", ResponseType: "application/x-pem-file",
		Headers: map[string]string{"Dockyard-Key-Id": "The key's id."}},

	// events
	"GET /v1/hec/tokens": {Summary: "List HEC tokens", Response: []wire.HECToken{}},
	"POST /v1/hec/tokens": {Summary: "Create a HEC token", Description: "The secret is in this answer only.",
		Request: wire.HECTokenRequest{}, Response: wire.NewHECToken{}, Status: http.StatusCreated},
	"DELETE /v1/hec/tokens/{name}": {Summary: "Delete a HEC token", Response: deletedAnswer{}},
	"POST /v1/hec/tokens/{name}/disable": {Summary: "Disable a HEC token", Response: struct {
		Disabled string `json:"disabled"`
	}{}},
	"POST /v1/hec/tokens/{name}/enable": {Summary: "Enable a HEC token", Response: struct {
		Enabled string `json:"enabled"`
	}{}},
	"GET /v1/indexes":           {Summary: "List the indexes the caller may search", Response: []wire.Index{}},
	"POST /v1/indexes":          {Summary: "Create an index", Request: wire.IndexRequest{}, Response: wire.Index{}, Status: http.StatusCreated},
	"DELETE /v1/indexes/{name}": {Summary: "Delete an index", Response: deletedAnswer{}},
}

// removedName is the answer of a remove that names what it removed.
type removedName struct {
	Removed string `json:"removed"`
}

// jupyterSpec describes one method of the Jupyter proxy (internal/api/jupyter.go).
func jupyterSpec(method string) openapiSpec {
	return openapiSpec{
		Summary: "Jupyter of a development container (proxied)",
		Description: "Proxied to the Jupyter server of the owner's development container, WebSocket upgrades of kernel " +
			"channels included: its REST API (contents, kernels, sessions) and pages, answered by Jupyter. Only the owner " +
			"and administrators; anyone else gets 404. Encoded slashes, '.' and '..' segments are refused (400).",
		OperationID:  "container.jupyter." + method,
		ResponseType: octetType,
		PathText: map[string]string{"owner": "the container's owner", "name": "the container (__dev__)",
			"rest": "the path under Jupyter's base URL, such as api/contents/NAME.ipynb"},
	}
}
