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

// namePattern is what user, role and app names look like.
var namePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{0,63}$`)

func checkName(what, name string) error {
	if !namePattern.MatchString(name) {
		return errdefs.Invalidf("%s name %q is not valid: use 1 to 64 of a-z, 0-9, _ . - starting with a letter or digit", what, name)
	}
	return nil
}

// NewUser is what AddUser needs.
type NewUser struct {
	Name     string
	Password string
	// PasswordHash, when set, is Password already hashed by HashPassword
	// (outside the store transaction the change runs in, since hashing is
	// slow and a transaction holds the store's write lock).
	PasswordHash string
	Roles        []string
	DefaultApp   string // empty: DefaultApp
}

// UserUpdate names the fields UpdateUser changes; nil fields stay.
type UserUpdate struct {
	Roles    *[]string
	Password *string
	// PasswordHash, when set with Password, is its hash (see NewUser).
	PasswordHash string
	DefaultApp   *string
}

// checkRoles requires at least one role, every one existing; it returns
// them sorted without duplicates.
func (s *Service) checkRoles(ctx context.Context, roles []string) ([]string, error) {
	if len(roles) == 0 {
		return nil, errdefs.Invalid("a user needs at least one role, for example \"user\"")
	}
	known, err := s.roleMap(ctx)
	if err != nil {
		return nil, err
	}
	var missing []string
	for _, r := range roles {
		if _, ok := known[r]; !ok {
			missing = append(missing, fmt.Sprintf("%q", r))
		}
	}
	if len(missing) > 0 {
		return nil, errdefs.Invalidf("unknown role %s: see \"dockyard roles list\"", strings.Join(missing, ", "))
	}
	out := slices.Clone(roles)
	slices.Sort(out)
	return slices.Compact(out), nil
}

// ValidateApp checks an app name (a request's Dockyard-App, a search's
// app, a user's default app): the rules of user and role names, so that an
// app cannot be made to look like app/owner in object names.
func ValidateApp(app string) error { return checkName("app", app) }

func appOrDefault(app string) (string, error) {
	if app == "" {
		return DefaultApp, nil
	}
	return app, checkName("app", app)
}

// AddUser creates a user after checking the name, the roles (they must
// exist) and the password policy. It returns the user without its hash.
func (s *Service) AddUser(ctx context.Context, nu NewUser) (store.User, error) {
	if err := checkName("user", nu.Name); err != nil {
		return store.User{}, err
	}
	if nu.Name == SystemUser {
		return store.User{}, errdefs.Invalidf("user name %q is reserved for the server's own audit events: choose another name", SystemUser)
	}
	if err := CheckPasswordPolicy(nu.Password); err != nil {
		return store.User{}, err
	}
	app, err := appOrDefault(nu.DefaultApp)
	if err != nil {
		return store.User{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	roles, err := s.checkRoles(ctx, nu.Roles)
	if err != nil {
		return store.User{}, err
	}
	hash := nu.PasswordHash
	if hash == "" {
		if hash, err = s.hash(ctx, nu.Password); err != nil {
			return store.User{}, err
		}
	}
	now := s.utcNow()
	u := store.User{Name: nu.Name, PasswordHash: hash, Roles: roles, DefaultApp: app, Created: now, Updated: now}
	if err := s.st.CreateUser(ctx, u); errdefs.IsConflict(err) {
		return store.User{}, errdefs.Conflictf("user %q already exists", nu.Name)
	} else if err != nil {
		return store.User{}, fmt.Errorf("add user %q: %w", nu.Name, err)
	}
	s.log.Info("added user", "user", u.Name, "roles", roles)
	u.PasswordHash = ""
	return u, nil
}

// GetUser returns the user called name, without its password hash.
func (s *Service) GetUser(ctx context.Context, name string) (store.User, error) {
	u, err := s.st.GetUser(ctx, name)
	if errdefs.IsNotFound(err) {
		return store.User{}, errdefs.NotFoundf("user %q not found", name)
	}
	u.PasswordHash = ""
	return u, err
}

// ListUsers returns every user sorted by name, without password hashes.
func (s *Service) ListUsers(ctx context.Context) ([]store.User, error) {
	list, err := s.st.ListUsers(ctx)
	for i := range list {
		list[i].PasswordHash = ""
	}
	return list, err
}

// UpdateUser changes a user's roles, password or default app. Changing the
// password ends the user's sessions (API tokens stay). Taking the admin
// role from the last admin is refused.
func (s *Service) UpdateUser(ctx context.Context, name string, up UserUpdate) (store.User, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, err := s.st.GetUser(ctx, name)
	if errdefs.IsNotFound(err) {
		return store.User{}, errdefs.NotFoundf("user %q not found", name)
	}
	if err != nil {
		return store.User{}, err
	}
	if up.DefaultApp != nil {
		if u.DefaultApp, err = appOrDefault(*up.DefaultApp); err != nil {
			return store.User{}, err
		}
	}
	if up.Roles != nil {
		roles, err := s.checkRoles(ctx, *up.Roles)
		if err != nil {
			return store.User{}, err
		}
		known, err := s.roleMap(ctx)
		if err != nil {
			return store.User{}, err
		}
		if expand(u.Roles, known).HasRole(RoleAdmin) && !expand(roles, known).HasRole(RoleAdmin) {
			if err := s.keepAnAdmin(ctx, name); err != nil {
				return store.User{}, err
			}
		}
		u.Roles = roles
	}
	if up.Password != nil && up.PasswordHash != "" {
		u.PasswordHash = up.PasswordHash
	} else if up.Password != nil {
		if u.PasswordHash, err = s.hash(ctx, *up.Password); err != nil {
			return store.User{}, err
		}
	}
	u.Updated = s.utcNow()
	if err := s.st.UpdateUser(ctx, u); err != nil {
		return store.User{}, fmt.Errorf("update user %q: %w", name, err)
	}
	if up.Password != nil {
		if err := s.endSessions(ctx, name); err != nil {
			return store.User{}, err
		}
	}
	s.log.Info("updated user", "user", name, "roles", u.Roles, "password_changed", up.Password != nil)
	u.PasswordHash = ""
	return u, nil
}

// endSessions revokes the live session tokens of user.
func (s *Service) endSessions(ctx context.Context, user string) error {
	toks, err := s.st.ListTokens(ctx, user)
	if err != nil {
		return err
	}
	for _, t := range toks {
		if t.Kind == store.TokenSession && !t.Revoked {
			if err := s.st.RevokeToken(ctx, t.ID); err != nil && !errdefs.IsNotFound(err) {
				return fmt.Errorf("end sessions of %q: %w", user, err)
			}
		}
	}
	return nil
}

// keepAnAdmin refuses when name is the only user holding the admin role.
func (s *Service) keepAnAdmin(ctx context.Context, name string) error {
	admins, err := s.admins(ctx)
	if err != nil {
		return err
	}
	if len(admins) == 1 && admins[0] == name {
		return errdefs.Conflictf("user %q is the last user with the admin role: give the admin role to another user first", name)
	}
	return nil
}

// DeleteUser deletes a user and their tokens. The last admin cannot be
// deleted.
func (s *Service) DeleteUser(ctx context.Context, name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.keepAnAdmin(ctx, name); err != nil {
		return err
	}
	err := s.st.DeleteUser(ctx, name)
	if errdefs.IsNotFound(err) {
		return errdefs.NotFoundf("user %q not found", name)
	}
	if err != nil {
		return fmt.Errorf("delete user %q: %w", name, err)
	}
	s.log.Info("deleted user", "user", name)
	return nil
}
