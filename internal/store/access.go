package store

import (
	"context"
	"time"
)

// User is an account.
type User struct {
	Name         string
	PasswordHash string // argon2id PHC string; empty means password login is disabled
	Roles        []string
	DefaultApp   string
	Created      time.Time
	Updated      time.Time
}

// Role is a named set of capabilities, optionally inheriting other roles.
type Role struct {
	Name          string
	Capabilities  []string
	Inherit       []string
	SearchIndexes []string // event indexes members may search ("*" = all but _internal)
	Builtin       bool
	Created       time.Time
}

// Token kinds.
const (
	TokenSession = "session"
	TokenAPI     = "api"
)

// Token is a session or API token. Only the SHA-256 of the token's secret is
// stored; the secret itself is shown once, when created.
type Token struct {
	ID       string // public identifier, safe to show and log
	Kind     string // TokenSession or TokenAPI
	Name     string // API tokens: the name the user gave
	User     string
	Hash     string // hex SHA-256 of the secret
	Created  time.Time
	Expires  time.Time // zero: never
	LastUsed time.Time
	Revoked  bool
}

// AccessStore keeps users, roles, tokens and the apps they may use.
type AccessStore interface {
	Transactor
	AppStore

	CreateUser(ctx context.Context, u User) error // ErrConflict if the name exists
	GetUser(ctx context.Context, name string) (User, error)
	UpdateUser(ctx context.Context, u User) error // ErrNotFound if absent
	DeleteUser(ctx context.Context, name string) error
	ListUsers(ctx context.Context) ([]User, error) // sorted by name

	CreateRole(ctx context.Context, r Role) error // ErrConflict if the name exists
	GetRole(ctx context.Context, name string) (Role, error)
	UpdateRole(ctx context.Context, r Role) error
	DeleteRole(ctx context.Context, name string) error
	ListRoles(ctx context.Context) ([]Role, error) // sorted by name

	CreateToken(ctx context.Context, t Token) error
	// GetTokenByHash returns the token whose Hash is hash, revoked or
	// expired ones included (the caller decides), or ErrNotFound.
	GetTokenByHash(ctx context.Context, hash string) (Token, error)
	GetToken(ctx context.Context, id string) (Token, error)
	ListTokens(ctx context.Context, user string) ([]Token, error) // user "" lists all
	RevokeToken(ctx context.Context, id string) error
	TouchToken(ctx context.Context, id string, at time.Time) error
	// DeleteExpiredTokens removes tokens that expired before now and
	// returns how many.
	DeleteExpiredTokens(ctx context.Context, now time.Time) (int, error)
}
