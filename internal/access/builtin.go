package access

import (
	"slices"

	"github.com/dockyard/dockyard/internal/store"
)

// BuiltinRoles returns the roles every Dockyard server has. They are created
// by Service.Bootstrap and cannot be deleted; admin cannot be changed and
// always holds every capability and every index, _internal included.
func BuiltinRoles() []store.Role {
	caps := func(cs ...Capability) []string {
		out := make([]string, len(cs))
		for i, c := range cs {
			out[i] = string(c)
		}
		return out
	}
	return []store.Role{
		{Name: RoleAdmin, Capabilities: caps(AllCapabilities()...), SearchIndexes: []string{"*", IndexInternal}, Builtin: true},
		{Name: RoleUser, Capabilities: caps(CapSearch, CapEditOwnTokens), SearchIndexes: []string{IndexMain}, Builtin: true},
		{Name: RolePower, Capabilities: caps(CapListContainer, CapPublishNotebooks), Inherit: []string{RoleUser}, Builtin: true},
		{Name: RoleContainerUser, Capabilities: caps(CapListContainer, CapControlContainer), Inherit: []string{RoleUser}, Builtin: true},
		{Name: RoleContainerAdmin, Capabilities: caps(CapConfigureContainer, CapPublishNotebooks), Inherit: []string{RoleContainerUser}, Builtin: true},
	}
}

// IsBuiltinRole reports whether name is one of the built-in roles.
func IsBuiltinRole(name string) bool {
	return slices.Contains([]string{RoleAdmin, RolePower, RoleUser, RoleContainerUser, RoleContainerAdmin}, name)
}
