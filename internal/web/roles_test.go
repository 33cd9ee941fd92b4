package web_test

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/dockyard/dockyard/internal/access"
	"github.com/dockyard/dockyard/internal/api"
	"github.com/dockyard/dockyard/internal/client"
	"github.com/dockyard/dockyard/internal/server/servertest"
	"github.com/dockyard/dockyard/internal/wire"
)

var containerRowRe = regexp.MustCompile(`<tr class="container" data-name="([^"]*)"`)

var modelRowRe = regexp.MustCompile(`<tr class="model" data-name="([^"]*)" data-owner="([^"]*)">`)

// TestEachRoleSeesWhatTheAPIShows opens every page as admin, power user,
// container user and plain user and checks it against the API for the
// same user: the models listed are exactly those the API lists (a model
// the user may not read never appears, not even by name), a page opens
// exactly when the user holds its capability, the actions on a model are
// shown exactly when the API says the user may take them, and a forged
// action the API would refuse is refused.
func TestEachRoleSeesWhatTheAPIShows(t *testing.T) {
	ctx := context.Background()
	h := servertest.Start(t)
	owner := h.User("olivia", access.RoleUser, access.RolePower)
	imp := func(ref string) {
		t.Helper()
		for i := 0; i < 2; i++ {
			if _, _, err := owner.ImportModelDir(ctx, ref, modelDir(t, map[string]string{"m.pkl": ref + string(rune('a'+i))}), "sk"); err != nil {
				t.Fatalf("import %s: %v", ref, err)
			}
		}
	}
	imp("app:open")        // shared in the app: everyone reads
	imp("OliviasOwn")      // private to olivia
	imp("app:powerOnly")   // shared, then read restricted to power
	imp("app:powerWrites") // shared; power may write
	read, write := []string{access.RolePower}, []string{access.RolePower}
	if _, err := owner.ShareModel(ctx, "app:powerOnly", wire.ModelShareRequest{Sharing: "app", Read: &read, Write: &write}); err != nil {
		t.Fatal(err)
	}
	everyone := []string{"*"}
	if _, err := owner.ShareModel(ctx, "app:powerWrites", wire.ModelShareRequest{Sharing: "app", Read: &everyone, Write: &write}); err != nil {
		t.Fatal(err)
	}

	carl := h.User("carl", access.RoleContainerUser)
	if _, err := carl.StartContainer(ctx, "carls", wire.ContainerStart{}); err != nil {
		t.Fatalf("start a container: %v", err)
	}

	roles := map[string][]string{
		"admin":     {access.RoleAdmin},
		"power":     {access.RoleUser, access.RolePower},
		"container": {access.RoleContainerUser},
		"plain":     {access.RoleUser},
	}
	for who, rs := range roles {
		t.Run(who, func(t *testing.T) {
			name := "u_" + who
			c := h.User(name, rs...)
			p, err := h.Srv.Access().EffectivePrincipal(ctx, name, "")
			if err != nil {
				t.Fatal(err)
			}
			b := newBrowser(t, h)
			b.login(name, servertest.UserPassword)

			// Models: exactly the API's list.
			apiPage, err := c.Models(ctx, client.ModelFilter{})
			if err != nil {
				t.Fatal(err)
			}
			var want, got []string
			for _, m := range apiPage.Models {
				want = append(want, m.Name+"/"+m.Owner)
			}
			body, _ := b.page("/models")
			for _, m := range modelRowRe.FindAllStringSubmatch(body, -1) {
				got = append(got, m[1]+"/"+m[2])
			}
			slices.Sort(want)
			slices.Sort(got)
			if !slices.Equal(got, want) {
				t.Errorf("the models page lists %v, the API %v", got, want)
			}
			if len(want) == 0 {
				t.Errorf("the API lists no model for %s: the test shows nothing", who)
			}
			for _, hidden := range []string{"powerOnly", "OliviasOwn"} {
				visible := slices.ContainsFunc(want, func(s string) bool { return strings.HasPrefix(s, hidden+"/") })
				if !visible && strings.Contains(body, hidden) {
					t.Errorf("the models page names %s, which the API hides from %s", hidden, who)
				}
			}

			// Pages: open exactly with their capability.
			for _, rt := range h.Srv.Routes() {
				if !rt.Page || rt.Method != "GET" || rt.Cap == api.Public || (strings.Contains(rt.Pattern, "{") && rt.Pattern != "/{$}") {
					continue
				}
				path := strings.TrimSuffix(rt.Pattern, "{$}")
				resp, body := b.get(path)
				allowed := rt.Cap == api.Authenticated || p.Can(rt.Cap)
				switch {
				case allowed && resp.StatusCode >= 400:
					t.Errorf("GET %s: %d although %s may open it: %s", path, resp.StatusCode, who, body)
				case !allowed && resp.StatusCode != http.StatusForbidden:
					t.Errorf("GET %s: %d, want 403 for %s (lacks %s)", path, resp.StatusCode, who, rt.Cap)
				}
			}
			menu, _ := b.page("/models")
			for href, capability := range map[string]access.Capability{"/containers": access.CapListContainer, "/search": access.CapSearch, "/audit": access.CapReadAudit} {
				if has := strings.Contains(menu, `<a href="`+href+`"`); has != p.Can(capability) {
					t.Errorf("the menu links %s: %v, want %v (%s holds %s: %v)", href, has, p.Can(capability), who, capability, p.Can(capability))
				}
			}

			// The dashboard: exactly the API's containers, with buttons
			// only for those who may use them.
			if p.Can(access.CapListContainer) {
				cs, err := c.Containers(ctx)
				if err != nil {
					t.Fatal(err)
				}
				var want, got []string
				for _, x := range cs {
					want = append(want, x.Name)
				}
				body, _ := b.page("/containers")
				for _, m := range containerRowRe.FindAllStringSubmatch(body, -1) {
					got = append(got, html.UnescapeString(m[1]))
				}
				slices.Sort(want)
				slices.Sort(got)
				if !slices.Equal(got, want) {
					t.Errorf("the dashboard lists %v, the API %v", got, want)
				}
				if who == "admin" && len(want) == 0 {
					t.Errorf("the API lists no container for the admin: the check shows nothing")
				}
				if has := strings.Contains(body, `class="stop"`); has != (p.Can(access.CapControlContainer) && len(want) > 0) {
					t.Errorf("stop buttons shown: %v, but %s may control containers: %v (%d listed)", has, who, p.Can(access.CapControlContainer), len(want))
				}
			}

			// Model pages: actions as the API's permissions say.
			for _, ref := range []string{"app:open", "app:powerOnly", "app:powerWrites"} {
				s, apiErr := c.Model(ctx, ref)
				resp, body := b.get("/models/" + ref)
				if apiErr != nil {
					if resp.StatusCode != http.StatusNotFound || strings.Contains(body, `id="model-facts"`) {
						t.Errorf("%s: the API says %v, the page %d", ref, apiErr, resp.StatusCode)
					}
					continue
				}
				if resp.StatusCode != http.StatusOK {
					t.Fatalf("%s: %d %s", ref, resp.StatusCode, body)
				}
				if has := strings.Contains(body, `id="rollback-form"`); has != s.Perms.Write {
					t.Errorf("%s: rollback shown %v, the API's write permission %v", ref, has, s.Perms.Write)
				}
				if has := strings.Contains(body, `id="share-form"`); has != s.Perms.Share {
					t.Errorf("%s: share shown %v, the API's share permission %v", ref, has, s.Perms.Share)
				}
				if !s.Perms.Write {
					// Forged: the form the page does not show, with a valid token.
					_, tok := b.page("/models")
					resp, _ := b.do("POST", "/models/"+ref+"/rollback", url.Values{"csrf": {tok}, "to": {"1"}}, nil)
					if resp.StatusCode != http.StatusForbidden && resp.StatusCode != http.StatusNotFound {
						t.Errorf("%s: a forged rollback by %s answered %d, want a refusal", ref, who, resp.StatusCode)
					}
					if after, err := owner.Model(ctx, ref); err != nil || after.Version != 2 {
						t.Errorf("%s: current is %d (%v) after a refused rollback, want 2", ref, after.Version, err)
					}
				}
			}

			// A forged action the capability does not allow.
			if !p.Can(access.CapEditUser) {
				_, tok := b.page("/models")
				resp, _ := b.do("POST", "/admin/users", url.Values{"csrf": {tok}, "name": {"intruder"}, "password": {"intruder-password-1"}, "roles": {"admin"}}, nil)
				if resp.StatusCode != http.StatusForbidden {
					t.Errorf("a forged user creation by %s answered %d, want 403", who, resp.StatusCode)
				}
				if _, err := h.Srv.Access().GetUser(ctx, "intruder"); err == nil {
					t.Fatalf("%s created a user through a forged form", who)
				}
			}
		})
	}
}
