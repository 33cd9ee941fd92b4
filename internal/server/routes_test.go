package server_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/dockyard/dockyard/internal/access"
	"github.com/dockyard/dockyard/internal/api"
	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/server/servertest"
	"github.com/dockyard/dockyard/internal/wire"
)

// TestEveryRouteDeclaresACapability walks every route the server registers
// and fails on one that declares no capability, or an unknown one.
func TestEveryRouteDeclaresACapability(t *testing.T) {
	h := servertest.Start(t)
	routes := h.Srv.Routes()
	if len(routes) < 10 {
		t.Fatalf("only %d routes registered", len(routes))
	}
	for _, rt := range routes {
		switch {
		case rt.Cap == "":
			t.Errorf("%s %s declares no capability", rt.Method, rt.Pattern)
		case rt.Cap == api.Public || rt.Cap == api.Authenticated:
		case !access.KnownCapability(rt.Cap):
			t.Errorf("%s %s declares the unknown capability %q", rt.Method, rt.Pattern, rt.Cap)
		}
		if rt.Handle == nil {
			t.Errorf("%s %s has no handler", rt.Method, rt.Pattern)
		}
	}
}

// fillPath replaces {wildcards} with a name no test object has.
func fillPath(p string) string {
	for {
		i := strings.IndexByte(p, '{')
		if i < 0 {
			return p
		}
		j := strings.IndexByte(p[i:], '}')
		p = p[:i] + "no-such-object" + p[i+j+1:]
	}
}

// TestRouteRoleMatrix calls every route as a member of each built-in role
// and checks that a role without the route's capability gets 403 naming
// that capability, and a role with it does not.
func TestRouteRoleMatrix(t *testing.T) {
	h := servertest.Start(t)
	ctx := context.Background()
	roles := []string{access.RoleUser, access.RolePower, access.RoleContainerUser, access.RoleContainerAdmin, access.RoleAdmin}
	for _, role := range roles {
		c := h.User("u_"+role, role)
		p, err := h.Srv.Access().EffectivePrincipal(ctx, "u_"+role, "")
		if err != nil {
			t.Fatal(err)
		}
		for _, rt := range h.Srv.Routes() {
			if rt.Cap == api.Public || rt.Cap == api.Authenticated || rt.Pattern == "/v1/logout" {
				continue
			}
			path := fillPath(rt.Pattern)
			resp, err := c.Raw(ctx, rt.Method, path, strings.NewReader("{}"), "application/json")
			if resp != nil {
				resp.Body.Close()
			}
			denied := errdefs.IsPermissionDenied(err) && strings.Contains(err.Error(), string(rt.Cap))
			if p.Can(rt.Cap) && denied {
				t.Errorf("%s %s as %s: refused although the role has %s: %v", rt.Method, rt.Pattern, role, rt.Cap, err)
			}
			if !p.Can(rt.Cap) && !denied {
				t.Errorf("%s %s as %s: want 403 naming %s, got %v", rt.Method, rt.Pattern, role, rt.Cap, err)
			}
		}
		// Apps: every role reads the default app and may use it as its
		// context; only admin_all_objects manages apps, and only admin and
		// power share into the default app.
		apps, err := c.Apps(ctx)
		if err != nil || len(apps) != 1 || apps[0].Name != access.DefaultApp {
			t.Errorf("apps as %s: %+v, %v; want the default app", role, apps, err)
		} else if want := role == access.RoleAdmin || role == access.RolePower; apps[0].CanWrite != want {
			t.Errorf("as %s: may share into search = %v, want %v", role, apps[0].CanWrite, want)
		}
		_, err = c.CreateApp(ctx, wire.AppRequest{Name: "app_" + role})
		if p.Can(access.CapManageApps) != (err == nil) {
			t.Errorf("as %s: create an app: %v", role, err)
		}
	}
}

// TestUserRefusedAdministration spells out the cases the matrix covers for
// the plain user role.
func TestUserRefusedAdministration(t *testing.T) {
	h := servertest.Start(t)
	ctx := context.Background()
	c := h.User("plain", access.RoleUser)
	resp, err := c.Raw(ctx, "POST", "/v1/roles", strings.NewReader(`{"name":"x","capabilities":["search"]}`), "application/json")
	if resp != nil {
		resp.Body.Close()
	}
	if !errdefs.IsPermissionDenied(err) || !strings.Contains(err.Error(), `"edit_roles"`) {
		t.Fatalf("user creating a role: want 403 naming edit_roles, got %v", err)
	}
	// Anonymous requests get 401 and a hint to log in.
	_, err = h.Client("").Raw(ctx, "GET", "/v1/users", nil, "")
	if !errdefs.IsUnauthenticated(err) || !strings.Contains(err.Error(), "dockyard login") {
		t.Fatalf("anonymous: want 401 with a login hint, got %v", err)
	}
	resp, err = h.Client("").Raw(ctx, "GET", "/healthz", nil, "")
	if err != nil {
		t.Fatalf("healthz: %v", err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("healthz status %d", resp.StatusCode)
	}
	resp.Body.Close()
}
