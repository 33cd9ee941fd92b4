package api

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/dockyard/dockyard/internal/access"
	"github.com/dockyard/dockyard/internal/audit"
	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/wire"
)

func (a *API) accessRoutes() []Route {
	return []Route{
		{Method: "POST", Pattern: "/v1/login", Cap: Public, Action: "login", Handle: a.login},
		{Method: "POST", Pattern: "/v1/logout", Cap: Authenticated, Action: "logout", Handle: a.logout},
		{Method: "GET", Pattern: "/v1/whoami", Cap: Authenticated, Handle: a.whoami},
		{Method: "GET", Pattern: "/v1/users", Cap: access.CapEditUser, Action: "user.list", Handle: a.auditDenials("user.list", a.listUsers)},
		{Method: "POST", Pattern: "/v1/users", Cap: access.CapEditUser, Action: "user.create", Handle: a.auditDenials("user.create", a.addUser)},
		{Method: "PATCH", Pattern: "/v1/users/{name}", Cap: access.CapEditUser, Action: "user.update", Handle: a.auditDenials("user.update", a.updateUser)},
		{Method: "DELETE", Pattern: "/v1/users/{name}", Cap: access.CapEditUser, Action: "user.delete", Handle: a.auditDenials("user.delete", a.deleteUser)},
		{Method: "GET", Pattern: "/v1/roles", Cap: access.CapEditRoles, Action: "role.list", Handle: a.auditDenials("role.list", a.listRoles)},
		{Method: "POST", Pattern: "/v1/roles", Cap: access.CapEditRoles, Action: "role.create", Handle: a.auditDenials("role.create", a.addRole)},
		{Method: "PATCH", Pattern: "/v1/roles/{name}", Cap: access.CapEditRoles, Action: "role.update", Handle: a.auditDenials("role.update", a.updateRole)},
		{Method: "DELETE", Pattern: "/v1/roles/{name}", Cap: access.CapEditRoles, Action: "role.delete", Handle: a.auditDenials("role.delete", a.deleteRole)},
		{Method: "GET", Pattern: "/v1/tokens", Cap: access.CapEditOwnTokens, Action: "token.list", Handle: a.auditDenials("token.list", a.listTokens)},
		{Method: "POST", Pattern: "/v1/tokens", Cap: access.CapEditOwnTokens, Action: "token.create", Handle: a.auditDenials("token.create", a.createToken)},
		{Method: "DELETE", Pattern: "/v1/tokens/{id}", Cap: access.CapEditOwnTokens, Action: "token.revoke", Handle: a.auditDenials("token.revoke", a.revokeToken)},
	}
}

// change runs fn, a change and the recording of its audit event (with
// recordErr, on the request fn gets), in one store transaction: both
// commit or neither does.
func (a *API) change(r *http.Request, fn func(r *http.Request) error) error {
	return a.changeIn(a.Access, r, fn)
}

// transactor runs a group of a service's changes as one transaction of its
// store; an audit event recorded with the transaction's context joins it.
// The access, index and observability services implement it.
type transactor interface {
	InTx(ctx context.Context, fn func(ctx context.Context) error) error
}

// changeIn is change in a transaction of t, the service whose store fn's
// change writes.
func (a *API) changeIn(t transactor, r *http.Request, fn func(r *http.Request) error) error {
	err := t.InTx(r.Context(), func(ctx context.Context) error { return fn(r.WithContext(ctx)) })
	if st := stateOf(r.Context()); err != nil && st != nil {
		if aerr := st.auditFailure(); aerr != nil {
			return &auditFailed{err: aerr, undone: true}
		}
	}
	return err
}

// auditDenials records a denied audit event when h refuses the request
// itself (the checks after the route's capability: token ownership, roles
// the caller may not grant, built-in roles), as serve does for the
// refusals before it.
func (a *API) auditDenials(action string, h HandlerFunc) HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		err := h(w, r)
		if errdefs.IsPermissionDenied(err) {
			e := audit.Event{Action: action, Result: audit.ResultDenied, Message: err.Error()}
			noun, _, _ := strings.Cut(action, ".")
			for _, k := range []string{"name", "id"} {
				if v := r.PathValue(k); v != "" {
					e.Object = noun + ":" + v
				}
			}
			a.record(r, e)
		}
		return err
	}
}

func (a *API) login(w http.ResponseWriter, r *http.Request) error {
	var req wire.LoginRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	// The password is checked outside the transaction (slow work); the
	// session token and its login event commit together.
	var secret string
	var tok access.Token
	u, err := a.Access.CheckPassword(r.Context(), req.User, req.Password, remoteHost(r))
	if err == nil {
		err = a.change(r, func(r *http.Request) error {
			var err error
			if secret, tok, err = a.Access.StartSession(r.Context(), u, remoteHost(r)); err != nil {
				return err
			}
			return a.recordErr(r, audit.Event{User: tok.User, Action: "login", Object: "token:" + tok.ID})
		})
	}
	if err != nil {
		a.record(r, audit.Event{User: req.User, Action: "login", Result: audit.ResultFailure, Message: err.Error()})
		return err
	}
	return writeJSON(w, http.StatusOK, wire.LoginResponse{User: tok.User, Token: secret, Expires: tok.Expires})
}

func (a *API) logout(w http.ResponseWriter, r *http.Request) error {
	p := access.FromContext(r.Context())
	if err := a.change(r, func(r *http.Request) error {
		if err := a.Access.Logout(r.Context(), p); err != nil {
			return err
		}
		return a.recordErr(r, audit.Event{Action: "logout", Object: "token:" + p.TokenID})
	}); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]string{"status": "logged out"})
}

func (a *API) whoami(w http.ResponseWriter, r *http.Request) error {
	p := access.FromContext(r.Context())
	u, err := a.Access.GetUser(r.Context(), p.User)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, wire.Whoami{
		User: p.User, Roles: nonNil(p.Roles), Capabilities: nonNil(p.Caps.Sorted()),
		DefaultApp: u.DefaultApp, App: p.App, Indexes: nonNil(p.Indexes),
	})
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func userWire(u access.User) wire.User {
	return wire.User{Name: u.Name, Roles: nonNil(u.Roles), DefaultApp: u.DefaultApp, Created: u.Created}
}

func (a *API) listUsers(w http.ResponseWriter, r *http.Request) error {
	us, err := a.Access.ListUsers(r.Context())
	if err != nil {
		return err
	}
	out := make([]wire.User, 0, len(us))
	for _, u := range us {
		out = append(out, userWire(u))
	}
	return writeJSON(w, http.StatusOK, out)
}

func (a *API) addUser(w http.ResponseWriter, r *http.Request) error {
	var req wire.UserRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	nu := access.NewUser{Name: req.Name}
	if req.Password == nil {
		return errdefs.Invalid("a new user needs a password")
	}
	nu.Password = *req.Password
	if req.Roles != nil {
		nu.Roles = *req.Roles
	}
	if req.DefaultApp != nil {
		nu.DefaultApp = *req.DefaultApp
	}
	if err := a.Access.CheckGrant(r.Context(), access.FromContext(r.Context()), nu.Roles); err != nil {
		return err
	}
	var err error
	if nu.PasswordHash, err = a.Access.HashPassword(r.Context(), nu.Password); err != nil {
		return err
	}
	var u access.User
	if err := a.change(r, func(r *http.Request) error {
		var err error
		if u, err = a.Access.AddUser(r.Context(), nu); err != nil {
			return err
		}
		return a.recordErr(r, audit.Event{Action: "user.create", Object: "user:" + u.Name, Details: map[string]any{"roles": u.Roles}})
	}); err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, userWire(u))
}

func (a *API) updateUser(w http.ResponseWriter, r *http.Request) error {
	var req wire.UserRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	name := r.PathValue("name")
	p := access.FromContext(r.Context())
	if err := a.Access.CheckManageUser(r.Context(), p, name); err != nil {
		return err
	}
	if req.Roles != nil {
		if err := a.Access.CheckGrant(r.Context(), p, *req.Roles); err != nil {
			return err
		}
	}
	up := access.UserUpdate{Roles: req.Roles, Password: req.Password, DefaultApp: req.DefaultApp}
	if req.Password != nil {
		var err error
		if up.PasswordHash, err = a.Access.HashPassword(r.Context(), *req.Password); err != nil {
			return err
		}
	}
	var u access.User
	err := a.change(r, func(r *http.Request) error {
		var err error
		u, err = a.Access.UpdateUser(r.Context(), name, up)
		if err != nil {
			return err
		}
		return a.recordErr(r, audit.Event{Action: "user.update", Object: "user:" + name, Details: map[string]any{"changed": changedFields(req), "roles": u.Roles}})
	})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, userWire(u))
}

func changedFields(req wire.UserRequest) []string {
	changed := []string{}
	if req.Roles != nil {
		changed = append(changed, "roles")
	}
	if req.Password != nil {
		changed = append(changed, "password")
	}
	if req.DefaultApp != nil {
		changed = append(changed, "default_app")
	}
	return changed
}

func (a *API) deleteUser(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	if err := a.Access.CheckManageUser(r.Context(), access.FromContext(r.Context()), name); err != nil {
		return err
	}
	if err := a.change(r, func(r *http.Request) error {
		if err := a.Access.DeleteUser(r.Context(), name); err != nil {
			return err
		}
		return a.recordErr(r, audit.Event{Action: "user.delete", Object: "user:" + name})
	}); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]string{"deleted": name})
}

// roleWire shows a role with its capabilities after inheritance, which
// it works out from all the roles (each visited once, so a cycle that
// slipped into the store cannot loop).
func roleWire(ro access.Role, all []access.Role) wire.Role {
	byName := map[string]access.Role{}
	for _, x := range all {
		byName[x.Name] = x
	}
	caps := map[string]bool{}
	seen := map[string]bool{}
	var visit func(string)
	visit = func(n string) {
		if seen[n] {
			return
		}
		seen[n] = true
		x := byName[n]
		for _, c := range x.Capabilities {
			caps[c] = true
		}
		for _, in := range x.Inherit {
			visit(in)
		}
	}
	byName[ro.Name] = ro
	visit(ro.Name)
	eff := make([]string, 0, len(caps))
	for c := range caps {
		eff = append(eff, c)
	}
	slices.Sort(eff)
	return wire.Role{Name: ro.Name, Capabilities: nonNil(ro.Capabilities), Inherit: nonNil(ro.Inherit),
		SearchIndexes: nonNil(ro.SearchIndexes), Builtin: ro.Builtin, EffectiveCapabilities: eff}
}

func (a *API) listRoles(w http.ResponseWriter, r *http.Request) error {
	rs, err := a.Access.ListRoles(r.Context())
	if err != nil {
		return err
	}
	out := make([]wire.Role, 0, len(rs))
	for _, ro := range rs {
		out = append(out, roleWire(ro, rs))
	}
	return writeJSON(w, http.StatusOK, out)
}

func (a *API) addRole(w http.ResponseWriter, r *http.Request) error {
	var req wire.RoleRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	ro := access.Role{Name: req.Name, Capabilities: req.Capabilities, Inherit: req.Inherit, SearchIndexes: req.SearchIndexes}
	return a.saveRole(w, r, ro, "role.create", http.StatusCreated, a.Access.AddRole)
}

// updateRole replaces a role's capabilities, inherited roles and search
// indexes (the body's name, if any, must be the path's), with the checks
// of creation: the caller grants only what it holds.
func (a *API) updateRole(w http.ResponseWriter, r *http.Request) error {
	var req wire.RoleRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	name := r.PathValue("name")
	if req.Name != "" && req.Name != name {
		return errdefs.Invalidf("the body names role %q but the path %q: a role cannot be renamed; create a new one", req.Name, name)
	}
	ro := access.Role{Name: name, Capabilities: req.Capabilities, Inherit: req.Inherit, SearchIndexes: req.SearchIndexes}
	return a.saveRole(w, r, ro, "role.update", http.StatusOK, a.Access.UpdateRole)
}

// saveRole creates or changes role ro with save, after the check that the
// caller grants only what it holds, with its audit event (action), and
// answers the role as saved.
func (a *API) saveRole(w http.ResponseWriter, r *http.Request, ro access.Role, action string, status int,
	save func(context.Context, access.Role) (access.Role, error)) error {
	if err := a.Access.CheckRoleGrant(r.Context(), access.FromContext(r.Context()), ro); err != nil {
		return err
	}
	if err := a.change(r, func(r *http.Request) error {
		var err error
		if ro, err = save(r.Context(), ro); err != nil {
			return err
		}
		return a.recordErr(r, audit.Event{Action: action, Object: "role:" + ro.Name,
			Details: map[string]any{"capabilities": ro.Capabilities, "inherit": ro.Inherit, "indexes": ro.SearchIndexes}})
	}); err != nil {
		return err
	}
	all, err := a.Access.ListRoles(r.Context())
	if err != nil {
		return err
	}
	return writeJSON(w, status, roleWire(ro, all))
}

func (a *API) deleteRole(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	if err := a.change(r, func(r *http.Request) error {
		if err := a.Access.DeleteRole(r.Context(), name); err != nil {
			return err
		}
		return a.recordErr(r, audit.Event{Action: "role.delete", Object: "role:" + name})
	}); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]string{"deleted": name})
}

func tokenWire(t access.Token) wire.Token {
	out := wire.Token{ID: t.ID, Name: t.Name, User: t.User, Kind: t.Kind, Created: t.Created, Revoked: t.Revoked}
	if !t.Expires.IsZero() {
		e := t.Expires
		out.Expires = &e
	}
	if !t.LastUsed.IsZero() {
		l := t.LastUsed
		out.LastUsed = &l
	}
	return out
}

func (a *API) listTokens(w http.ResponseWriter, r *http.Request) error {
	user := ""
	if r.URL.Query().Get("all") == "true" {
		user = "*"
	}
	ts, err := a.Access.ListTokens(r.Context(), access.FromContext(r.Context()), user)
	if err != nil {
		return err
	}
	out := make([]wire.Token, 0, len(ts))
	for _, t := range ts {
		out = append(out, tokenWire(t))
	}
	return writeJSON(w, http.StatusOK, out)
}

func (a *API) createToken(w http.ResponseWriter, r *http.Request) error {
	var req wire.TokenRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	var ttl time.Duration
	if req.Expires != "" {
		d, err := time.ParseDuration(req.Expires)
		if err != nil || d <= 0 {
			return errdefs.Invalidf("expires %q is not a positive duration such as 720h", req.Expires)
		}
		ttl = d
	}
	var secret string
	var tok access.Token
	if err := a.change(r, func(r *http.Request) error {
		var err error
		if secret, tok, err = a.Access.CreateAPIToken(r.Context(), access.FromContext(r.Context()), req.Name, ttl); err != nil {
			return err
		}
		return a.recordErr(r, audit.Event{Action: "token.create", Object: "token:" + tok.ID, Details: map[string]any{"name": tok.Name}})
	}); err != nil {
		return err
	}
	tw := tokenWire(tok)
	return writeJSON(w, http.StatusCreated, wire.NewToken{ID: tok.ID, Name: tok.Name, Token: secret, Expires: tw.Expires})
}

func (a *API) revokeToken(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if err := a.change(r, func(r *http.Request) error {
		if err := a.Access.RevokeToken(r.Context(), access.FromContext(r.Context()), id); err != nil {
			return err
		}
		return a.recordErr(r, audit.Event{Action: "token.revoke", Object: "token:" + id})
	}); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]string{"revoked": id})
}
