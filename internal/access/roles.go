package access

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/store"
)

// indexPattern is what an event index name in a role looks like ("*" aside).
var indexPattern = regexp.MustCompile(`^[a-z0-9_][a-z0-9_-]{0,63}$`)

// normaliseRole checks the fields of r that need no other rows and returns
// r with sorted, de-duplicated lists.
func normaliseRole(r store.Role) (store.Role, error) {
	if err := checkName("role", r.Name); err != nil {
		return r, err
	}
	var unknown []string
	for _, c := range r.Capabilities {
		if !KnownCapability(Capability(c)) {
			unknown = append(unknown, fmt.Sprintf("%q", c))
		}
	}
	if len(unknown) > 0 {
		return r, errdefs.Invalidf("unknown capabilit%s %s: known ones are %s",
			map[bool]string{true: "y", false: "ies"}[len(unknown) == 1], strings.Join(unknown, ", "), capNames())
	}
	for _, i := range r.SearchIndexes {
		if i != "*" && !indexPattern.MatchString(i) {
			return r, errdefs.Invalidf("search index %q is not a valid index name (or \"*\")", i)
		}
	}
	sortUniq := func(l []string) []string {
		out := slices.Clone(l)
		slices.Sort(out)
		return slices.Compact(out)
	}
	r.Capabilities = sortUniq(r.Capabilities)
	r.Inherit = sortUniq(r.Inherit)
	r.SearchIndexes = sortUniq(r.SearchIndexes)
	return r, nil
}

func capNames() string {
	var out []string
	for _, c := range AllCapabilities() {
		out = append(out, string(c))
	}
	return strings.Join(out, ", ")
}

// checkInherit requires r's inherit targets to exist in roles (which holds
// every other role) and the inheritance graph with r in it to be acyclic.
func checkInherit(r store.Role, roles map[string]store.Role) error {
	var missing []string
	for _, in := range r.Inherit {
		if _, ok := roles[in]; !ok && in != r.Name {
			missing = append(missing, fmt.Sprintf("%q", in))
		}
	}
	if len(missing) > 0 {
		return errdefs.Invalidf("role %q inherits unknown role %s: create it first", r.Name, strings.Join(missing, ", "))
	}
	graph := make(map[string][]string, len(roles)+1)
	for n, x := range roles {
		graph[n] = x.Inherit
	}
	graph[r.Name] = r.Inherit
	if cycle := findCycle(r.Name, graph); cycle != nil {
		return errdefs.Invalidf("role %q would make an inheritance cycle: %s", r.Name, strings.Join(cycle, " -> "))
	}
	return nil
}

// findCycle returns a path start -> ... -> start through graph, or nil.
func findCycle(start string, graph map[string][]string) []string {
	seen := map[string]bool{}
	var path []string
	var walk func(n string) bool
	walk = func(n string) bool {
		path = append(path, n)
		for _, next := range graph[n] {
			if next == start {
				path = append(path, start)
				return true
			}
			if !seen[next] {
				seen[next] = true
				if walk(next) {
					return true
				}
			}
		}
		path = path[:len(path)-1]
		return false
	}
	if walk(start) {
		return path
	}
	return nil
}

// AddRole creates a role. Its capabilities must be known, its inherited
// roles must exist, and the name must be new.
func (s *Service) AddRole(ctx context.Context, r store.Role) (store.Role, error) {
	r, err := normaliseRole(r)
	if err != nil {
		return r, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	roles, err := s.roleMap(ctx)
	if err != nil {
		return r, err
	}
	if _, ok := roles[r.Name]; ok {
		return r, errdefs.Conflictf("role %q already exists", r.Name)
	}
	if err := checkInherit(r, roles); err != nil {
		return r, err
	}
	r.Builtin, r.Created = false, s.utcNow()
	if err := s.st.CreateRole(ctx, r); errdefs.IsConflict(err) {
		return r, errdefs.Conflictf("role %q already exists", r.Name)
	} else if err != nil {
		return r, fmt.Errorf("add role %q: %w", r.Name, err)
	}
	s.log.Info("added role", "role", r.Name, "capabilities", r.Capabilities, "inherit", r.Inherit)
	return r, nil
}

// UpdateRole replaces a role's capabilities, inherited roles and search
// indexes, with AddRole's checks plus cycle detection. The admin role
// cannot be changed.
func (s *Service) UpdateRole(ctx context.Context, r store.Role) (store.Role, error) {
	r, err := normaliseRole(r)
	if err != nil {
		return r, err
	}
	if r.Name == RoleAdmin {
		return r, errdefs.PermissionDenied("the built-in admin role cannot be changed: it always holds every capability")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	roles, err := s.roleMap(ctx)
	if err != nil {
		return r, err
	}
	have, ok := roles[r.Name]
	if !ok {
		return r, errdefs.NotFoundf("role %q not found", r.Name)
	}
	delete(roles, r.Name)
	if err := checkInherit(r, roles); err != nil {
		return r, err
	}
	r.Builtin, r.Created = have.Builtin, have.Created
	if err := s.st.UpdateRole(ctx, r); err != nil {
		return r, fmt.Errorf("update role %q: %w", r.Name, err)
	}
	s.log.Info("updated role", "role", r.Name, "capabilities", r.Capabilities, "inherit", r.Inherit)
	return r, nil
}

// GetRole returns the role called name.
func (s *Service) GetRole(ctx context.Context, name string) (store.Role, error) {
	r, err := s.st.GetRole(ctx, name)
	if errdefs.IsNotFound(err) {
		return r, errdefs.NotFoundf("role %q not found", name)
	}
	return r, err
}

// ListRoles returns every role sorted by name.
func (s *Service) ListRoles(ctx context.Context) ([]store.Role, error) {
	return s.st.ListRoles(ctx)
}

// DeleteRole deletes a role that is not built in, not held by any user and
// not inherited by any role.
func (s *Service) DeleteRole(ctx context.Context, name string) error {
	if IsBuiltinRole(name) {
		return errdefs.PermissionDeniedf("role %q is built in and cannot be deleted", name)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	roles, err := s.roleMap(ctx)
	if err != nil {
		return err
	}
	r, ok := roles[name]
	if !ok {
		return errdefs.NotFoundf("role %q not found", name)
	}
	if r.Builtin {
		return errdefs.PermissionDeniedf("role %q is built in and cannot be deleted", name)
	}
	var users, heirs []string
	for _, x := range roles {
		if slices.Contains(x.Inherit, name) {
			heirs = append(heirs, x.Name)
		}
	}
	list, err := s.st.ListUsers(ctx)
	if err != nil {
		return err
	}
	for _, u := range list {
		if slices.Contains(u.Roles, name) {
			users = append(users, u.Name)
		}
	}
	if len(users)+len(heirs) > 0 {
		slices.Sort(heirs)
		return errdefs.Conflictf("role %q is still in use (users: %s; inherited by roles: %s): take it away from them first",
			name, listOrNone(users), listOrNone(heirs))
	}
	if err := s.st.DeleteRole(ctx, name); err != nil {
		return fmt.Errorf("delete role %q: %w", name, err)
	}
	s.log.Info("deleted role", "role", name)
	return nil
}

func listOrNone(l []string) string {
	if len(l) == 0 {
		return "none"
	}
	return strings.Join(l, ", ")
}
