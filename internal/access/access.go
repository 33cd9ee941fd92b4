// Package access decides who is asking and what they may do: users, roles
// with inheritance, capabilities, session and API tokens, and the
// knowledge-object ACL (owner, app, sharing, read and write roles) that
// models, lookups and notebooks share.
package access

import (
	"context"
	"slices"
	"sort"
)

// Capability names one thing a role may do.
type Capability string

// Capabilities known to Dockyard. The three *_mltk_container ones keep the
// seed system's names.
const (
	CapSearch             Capability = "search"                   // run searches
	CapListContainer      Capability = "list_mltk_container"      // list containers
	CapControlContainer   Capability = "control_mltk_container"   // start and stop containers
	CapConfigureContainer Capability = "configure_mltk_container" // container settings, observability, certificates
	CapEditUser           Capability = "edit_user"                // create, change and delete users
	CapEditRoles          Capability = "edit_roles"               // create, change and delete roles
	CapEditOwnTokens      Capability = "edit_tokens_own"          // create and revoke one's own API tokens
	CapEditAllTokens      Capability = "edit_tokens_all"          // list and revoke anybody's API tokens
	CapEditHECToken       Capability = "edit_hec_token"           // manage HTTP Event Collector tokens
	CapEditIndexes        Capability = "edit_indexes"             // create and delete event indexes
	CapReadAudit          Capability = "read_audit"               // read and verify the internal audit index
	CapAdminAllObjects    Capability = "admin_all_objects"        // read, write and share every knowledge object
	CapUseGPU             Capability = "use_gpu"                  // run containers with GPUs
	CapPublishNotebooks   Capability = "publish_notebooks"        // share notebooks with an app or globally, where others' fits may run them
	CapAdminStorage       Capability = "admin_storage"            // garbage-collect the blob store and take backups (which hold every secret)
)

// AllCapabilities lists every capability, sorted.
func AllCapabilities() []Capability {
	c := []Capability{
		CapSearch, CapListContainer, CapControlContainer, CapConfigureContainer,
		CapEditUser, CapEditRoles, CapEditOwnTokens, CapEditAllTokens, CapEditHECToken,
		CapEditIndexes, CapReadAudit, CapAdminAllObjects, CapUseGPU, CapPublishNotebooks,
		CapAdminStorage,
	}
	sort.Slice(c, func(i, j int) bool { return c[i] < c[j] })
	return c
}

// KnownCapability reports whether c is one of AllCapabilities.
func KnownCapability(c Capability) bool { return slices.Contains(AllCapabilities(), c) }

// CapSet is a set of capabilities.
type CapSet map[Capability]bool

// Has reports whether the set holds c.
func (s CapSet) Has(c Capability) bool { return s[c] }

// Sorted returns the capabilities in the set as sorted strings.
func (s CapSet) Sorted() []string {
	out := make([]string, 0, len(s))
	for c := range s {
		out = append(out, string(c))
	}
	sort.Strings(out)
	return out
}

// Built-in role names.
const (
	RoleAdmin              = "admin"
	RolePower              = "power"
	RoleUser               = "user"
	RoleContainerUser      = "mltk_container_user"
	RoleContainerAdmin     = "mltk_container_admin"
	DefaultApp             = "search"
	IndexMain              = "main"
	IndexInternal          = "_internal"
	EveryoneRole           = "*"
	AdminUser              = "admin"
	SystemUser             = "system"
	PrincipalKindUser      = "user"
	PrincipalKindContainer = "container"
)

// Principal is an authenticated caller with its effective (inherited)
// roles and capabilities, and the app context of the request.
type Principal struct {
	User    string
	Roles   []string // effective roles, inherited ones included, sorted
	Caps    CapSet
	Indexes []string // event indexes the caller may search
	App     string   // the app context of this request
	Apps    AppSet   // what the caller may do in each app
	TokenID string   // the session or API token that authenticated the request
}

// Can reports whether the principal holds capability c.
func (p *Principal) Can(c Capability) bool { return p != nil && p.Caps.Has(c) }

// HasRole reports whether the principal holds role r, directly or inherited.
// The pseudo-role "*" matches everybody.
func (p *Principal) HasRole(r string) bool {
	if p == nil {
		return false
	}
	return r == EveryoneRole || slices.Contains(p.Roles, r)
}

// CanSearchIndex reports whether the principal may read events of index.
func (p *Principal) CanSearchIndex(index string) bool {
	if p == nil {
		return false
	}
	return slices.Contains(p.Indexes, index) || slices.Contains(p.Indexes, "*") && index != IndexInternal ||
		index == IndexInternal && p.Can(CapReadAudit)
}

type principalKey struct{}

// WithPrincipal returns a context carrying p.
func WithPrincipal(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// FromContext returns the principal carried by ctx, or nil.
func FromContext(ctx context.Context) *Principal {
	p, _ := ctx.Value(principalKey{}).(*Principal)
	return p
}
