package access

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/store"
)

// beyond returns the capabilities and search indexes that q holds and p
// does not: what p would hand out by making somebody q.
func (p *Principal) beyond(q *Principal) []string {
	var out []string
	for _, c := range q.Caps.Sorted() {
		if !p.Can(Capability(c)) {
			out = append(out, fmt.Sprintf("capability %s", c))
		}
	}
	for _, i := range q.Indexes {
		if i == "*" && !slices.Contains(p.Indexes, "*") || i != "*" && !p.CanSearchIndex(i) {
			out = append(out, fmt.Sprintf("index %s", i))
		}
	}
	return out
}

// CheckGrant refuses when giving a user the roles named would give them a
// capability or search index that p does not hold: a holder of edit_user
// may hand out only what they have, so that nobody (themselves included)
// climbs above them. Unknown roles are left to AddUser and UpdateUser.
func (s *Service) CheckGrant(ctx context.Context, p *Principal, roles []string) error {
	if p == nil {
		return errdefs.Unauthenticated("granting roles needs an authenticated user")
	}
	known, err := s.roleMap(ctx)
	if err != nil {
		return err
	}
	if extra := p.beyond(expand(roles, known)); len(extra) > 0 {
		return errdefs.PermissionDeniedf("permission denied: the roles %s grant %s, which you do not hold yourself; "+
			"only a user who holds them may grant them: ask an administrator", strings.Join(roles, ", "), strings.Join(extra, ", "))
	}
	return nil
}

// CheckRoleGrant refuses when the new role r (its capabilities, inherited
// roles and search indexes) would grant something p does not hold.
func (s *Service) CheckRoleGrant(ctx context.Context, p *Principal, r store.Role) error {
	if p == nil {
		return errdefs.Unauthenticated("creating roles needs an authenticated user")
	}
	known, err := s.roleMap(ctx)
	if err != nil {
		return err
	}
	known[r.Name] = r
	if extra := p.beyond(expand([]string{r.Name}, known)); len(extra) > 0 {
		return errdefs.PermissionDeniedf("permission denied: role %q would grant %s, which you do not hold yourself; "+
			"only a user who holds them may create such a role: ask an administrator", r.Name, strings.Join(extra, ", "))
	}
	return nil
}

// CheckManageUser refuses when user holds a capability or search index
// that p does not: changing such a user's password, roles or default app,
// or deleting them, is for those at least as powerful. A missing user
// passes, for the operation itself to report.
func (s *Service) CheckManageUser(ctx context.Context, p *Principal, user string) error {
	if p == nil {
		return errdefs.Unauthenticated("managing users needs an authenticated user")
	}
	u, err := s.st.GetUser(ctx, user)
	if errdefs.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	known, err := s.roleMap(ctx)
	if err != nil {
		return err
	}
	if extra := p.beyond(expand(u.Roles, known)); len(extra) > 0 {
		return errdefs.PermissionDeniedf("permission denied: user %q holds %s, which you do not hold yourself; "+
			"only a user who holds them may change or delete this user: ask an administrator", user, strings.Join(extra, ", "))
	}
	return nil
}
