// Package wire holds the JSON types that the server, the agent and the CLI
// exchange, and the protocol version. Field names are the contract of
// the `-o json` output docs/cli.md describes: change them only by adding.
package wire

import "time"

// ProtocolVersion is sent by clients in the Dockyard-Protocol header.
const ProtocolVersion = "1"

// Error is the body of every non-2xx answer of the server's API.
type Error struct {
	Error     string `json:"error"`
	Code      string `json:"code"` // a code of errdefs/errhttp's table: invalid, not_found, limit, too_large, disk_full, internal, ...
	RequestID string `json:"request_id,omitempty"`
}

// LoginRequest is the body of POST /v1/login.
type LoginRequest struct {
	User     string `json:"user"`
	Password string `json:"password"`
}

// LoginResponse answers a login. Token is shown only here.
type LoginResponse struct {
	User    string    `json:"user"`
	Token   string    `json:"token"`
	Expires time.Time `json:"expires"`
}

// Whoami answers GET /v1/whoami.
type Whoami struct {
	User         string   `json:"user"`
	Roles        []string `json:"roles"`
	Capabilities []string `json:"capabilities"`
	DefaultApp   string   `json:"default_app"`
	App          string   `json:"app"`
	Indexes      []string `json:"indexes"`
}

// User is an account as the API shows it (never its password hash).
type User struct {
	Name       string    `json:"name"`
	Roles      []string  `json:"roles"`
	DefaultApp string    `json:"default_app"`
	Created    time.Time `json:"created"`
}

// UserRequest creates or changes a user. Nil fields are left unchanged.
type UserRequest struct {
	Name       string    `json:"name,omitempty"`
	Password   *string   `json:"password,omitempty"`
	Roles      *[]string `json:"roles,omitempty"`
	DefaultApp *string   `json:"default_app,omitempty"`
}

// Role is a role as the API shows it.
type Role struct {
	Name                  string   `json:"name"`
	Capabilities          []string `json:"capabilities"`
	Inherit               []string `json:"inherit"`
	SearchIndexes         []string `json:"search_indexes"`
	EffectiveCapabilities []string `json:"effective_capabilities"`
	Builtin               bool     `json:"builtin"`
}

// RoleRequest creates a role.
type RoleRequest struct {
	Name          string   `json:"name"`
	Capabilities  []string `json:"capabilities"`
	Inherit       []string `json:"inherit"`
	SearchIndexes []string `json:"search_indexes"`
}

// TokenRequest creates an API token.
type TokenRequest struct {
	Name    string `json:"name"`
	Expires string `json:"expires,omitempty"` // a Go duration such as 720h; empty: the server's maximum
}

// Token is an API token as listed (never its secret).
type Token struct {
	ID       string     `json:"id"`
	Name     string     `json:"name"`
	User     string     `json:"user"`
	Kind     string     `json:"kind"`
	Created  time.Time  `json:"created"`
	Expires  *time.Time `json:"expires,omitempty"`
	LastUsed *time.Time `json:"last_used,omitempty"`
	Revoked  bool       `json:"revoked"`
}

// NewToken answers token creation: the secret is shown once, here.
type NewToken struct {
	ID      string     `json:"id"`
	Name    string     `json:"name"`
	Token   string     `json:"token"`
	Expires *time.Time `json:"expires,omitempty"`
}
