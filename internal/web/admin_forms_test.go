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
	"time"

	"github.com/dockyard/dockyard/internal/access"
	"github.com/dockyard/dockyard/internal/server/servertest"
	"github.com/dockyard/dockyard/internal/wire"
)

// post sends a console form and wants the redirect that follows success.
func (b *browser) post(path string, form url.Values) {
	b.t.Helper()
	resp, body := b.do("POST", path, form, nil)
	if resp.StatusCode != http.StatusSeeOther {
		b.t.Fatalf("POST %s: %d %s", path, resp.StatusCode, body)
	}
	// The message goes in the query, before any #fragment, where the
	// page can read it.
	if loc := resp.Header.Get("Location"); !strings.Contains(strings.SplitN(loc, "#", 2)[0], "done=") {
		b.t.Errorf("POST %s redirects to %q: the message is not in the query", path, loc)
	}
}

// TestAdministrationForms posts each administration form (users' roles
// and passwords, roles with their capability boxes, apps and their
// membership, API token revocation, HEC token disable/enable/delete, the
// image catalogue, CVE exceptions, the image policy and the observability
// settings) and checks the API's state afterwards; a destructive form
// without its confirmation box changes nothing.
func TestAdministrationForms(t *testing.T) {
	ctx := context.Background()
	h := servertest.Start(t)
	boss := h.User("boss", access.RoleAdmin)
	b := newBrowser(t, h)
	b.login("boss", servertest.UserPassword)
	page, tok := b.page("/admin")
	for _, id := range []string{`id="role-form"`, `id="app-form"`, `id="image-form"`, `id="policy-form"`, `id="observability-form"`, `action="/admin/users/boss/update"`} {
		if !strings.Contains(page, id) {
			t.Errorf("the administration page lacks %s", id)
		}
	}
	f := func(kv ...string) url.Values {
		v := url.Values{"csrf": {tok}}
		for i := 0; i+1 < len(kv); i += 2 {
			v.Add(kv[i], kv[i+1])
		}
		return v
	}

	// Users: change roles and password; delete needs the box.
	h.User("ursula", access.RoleUser)
	b.post("/admin/apps", f("name", "team"))
	b.post("/admin/users/ursula/update", f("roles", "user, power", "password", "ursula-new-password-1", "default_app", "team"))
	if u, err := h.Srv.Access().GetUser(ctx, "ursula"); err != nil || !slices.Equal(u.Roles, []string{"power", "user"}) || u.DefaultApp != "team" {
		t.Errorf("ursula after the form: %+v (%v)", u, err)
	}
	if _, err := h.Client("").Login(ctx, "ursula", "ursula-new-password-1"); err != nil {
		t.Errorf("the new password does not log in: %v", err)
	}
	if resp, _ := b.do("POST", "/admin/users/ursula/delete", f(), nil); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("a user deletion without the confirmation box answered %d, want 400", resp.StatusCode)
	}
	if _, err := h.Srv.Access().GetUser(ctx, "ursula"); err != nil {
		t.Fatalf("an unconfirmed deletion deleted the user: %v", err)
	}
	b.post("/admin/users/ursula/delete", f("confirm", "yes"))
	if _, err := h.Srv.Access().GetUser(ctx, "ursula"); err == nil {
		t.Errorf("ursula survives a confirmed deletion")
	}

	// Roles: a capability per box.
	b.post("/admin/roles", f("name", "auditor", "capability", "read_audit", "capability", "search", "inherit", "user", "indexes", "main"))
	roles, err := boss.Roles(ctx)
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(roles, func(r wire.Role) bool { return r.Name == "auditor" })
	if i < 0 || !slices.Equal(roles[i].Capabilities, []string{"read_audit", "search"}) || !slices.Equal(roles[i].Inherit, []string{"user"}) {
		t.Errorf("the role form made %+v", roles)
	}
	b.post("/admin/roles/auditor/update", f("capability", "search", "indexes", "main, summary"))
	roles, _ = boss.Roles(ctx)
	i = slices.IndexFunc(roles, func(r wire.Role) bool { return r.Name == "auditor" })
	if i < 0 || !slices.Equal(roles[i].Capabilities, []string{"search"}) || len(roles[i].Inherit) != 0 || !slices.Equal(roles[i].SearchIndexes, []string{"main", "summary"}) {
		t.Errorf("the role edit form made %+v", roles)
	}
	page, _ = b.page("/admin")
	if !strings.Contains(page, `action="/admin/roles/auditor/update"`) || strings.Contains(page, `action="/admin/roles/admin/update"`) {
		t.Errorf("edit is not offered for the new role, or is for admin (which cannot change)")
	}
	if !strings.Contains(page, `value="search" checked`) {
		t.Errorf("the role edit form does not tick the role's capabilities")
	}
	if !strings.Contains(page, `action="/admin/roles/auditor/delete"`) || strings.Contains(page, `action="/admin/roles/admin/delete"`) {
		t.Errorf("delete is not offered for the new role, or is for a built-in one")
	}
	b.post("/admin/roles/auditor/delete", f("confirm", "yes"))
	roles, _ = boss.Roles(ctx)
	if slices.ContainsFunc(roles, func(r wire.Role) bool { return r.Name == "auditor" }) {
		t.Errorf("the role survives its deletion")
	}

	// Apps and their membership.
	b.post("/admin/apps", f("name", "finance", "read", "power", "write", "admin"))
	b.post("/admin/apps/finance/update", f("read", "power, user", "write", "admin, power"))
	if a, err := boss.App(ctx, "finance"); err != nil || !slices.Equal(a.Read, []string{"power", "user"}) || !slices.Equal(a.Write, []string{"admin", "power"}) {
		t.Errorf("the app after the forms: %+v (%v)", a, err)
	}
	b.post("/admin/apps/finance/delete", f("confirm", "yes"))
	if _, err := boss.App(ctx, "finance"); err == nil {
		t.Errorf("the app survives its deletion")
	}

	// API tokens: revoke one of one's own.
	nt, err := boss.CreateToken(ctx, wire.TokenRequest{Name: "script"})
	if err != nil {
		t.Fatal(err)
	}
	page, _ = b.page("/admin")
	if !strings.Contains(page, `action="/admin/tokens/`+nt.ID+`/revoke"`) {
		t.Fatalf("no revoke form for the token %s", nt.ID)
	}
	b.post("/admin/tokens/"+nt.ID+"/revoke", f("confirm", "yes"))
	if _, err := h.Client(nt.Token).Apps(ctx); err == nil {
		t.Errorf("the revoked token still works")
	}

	// An API token from the form: its secret shown once, and it works.
	resp, body := b.do("POST", "/admin/tokens", f("name", "from-web", "expires", "24h"), nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `id="new-api-token"`) {
		t.Fatalf("create an API token: %d %s", resp.StatusCode, body)
	}
	secret := regexp.MustCompile(`id="new-api-token"><p>[^<]*</p><pre>([^<]+)</pre>`).FindStringSubmatch(body)
	if secret == nil {
		t.Fatalf("no secret on the answer page:\n%s", body)
	}
	if w, err := h.Client(html.UnescapeString(secret[1])).Whoami(ctx); err != nil || w.User != "boss" {
		t.Errorf("the new token does not work as boss: %+v %v", w, err)
	}
	if page, _ := b.page("/admin"); strings.Contains(page, secret[1]) {
		t.Errorf("the API token's secret is shown again")
	}

	// Holders of edit_tokens_all see and revoke everybody's.
	other := h.User("otto", access.RoleUser)
	ot, err := other.CreateToken(ctx, wire.TokenRequest{Name: "otto-script"})
	if err != nil {
		t.Fatal(err)
	}
	page, _ = b.page("/admin")
	if !strings.Contains(page, "API tokens (everybody&#39;s)") || !strings.Contains(page, `action="/admin/tokens/`+ot.ID+`/revoke"`) {
		t.Fatalf("the administrator is not offered otto's token %s", ot.ID)
	}
	b.post("/admin/tokens/"+ot.ID+"/revoke", f("confirm", "yes"))
	if _, err := h.Client(ot.Token).Apps(ctx); err == nil {
		t.Errorf("otto's revoked token still works")
	}

	// HEC tokens: disable, enable, delete.
	if resp, body := b.do("POST", "/admin/hec-tokens", f("name", "feed", "indexes", "main", "use_ack", "yes"), nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("create a HEC token: %d %s", resp.StatusCode, body)
	}
	hec := func() *wire.HECToken {
		ts, err := boss.HECTokens(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range ts {
			if x.Name == "feed" {
				return &x
			}
		}
		return nil
	}
	if x := hec(); x == nil || !x.UseAck || x.DefaultIndex != "main" {
		t.Errorf("the HEC token as created: %+v", x)
	}
	b.post("/admin/hec-tokens/feed/disable", f())
	if x := hec(); x == nil || !x.Disabled {
		t.Errorf("the HEC token after disable: %+v", x)
	}
	page, _ = b.page("/admin")
	if !strings.Contains(page, `action="/admin/hec-tokens/feed/enable"`) {
		t.Errorf("a disabled HEC token offers no enable")
	}
	b.post("/admin/hec-tokens/feed/enable", f())
	if x := hec(); x == nil || x.Disabled {
		t.Errorf("the HEC token after enable: %+v", x)
	}
	b.post("/admin/hec-tokens/feed/delete", f("confirm", "yes"))
	if x := hec(); x != nil {
		t.Errorf("the HEC token survives its deletion")
	}

	// Images: add (the process runtime needs no registry), update, allow
	// a CVE, remove.
	b.post("/admin/images", f("name", "local", "runtime", "process", "title", "Local"))
	b.post("/admin/images/local/update", f("title", "Local agent", "gpu", "yes"))
	if im, err := boss.Image(ctx, "local"); err != nil || im.Title != "Local agent" || !im.GPU {
		t.Errorf("the image after the forms: %+v (%v)", im, err)
	}
	b.post("/admin/images/local/exceptions", f("cve", "CVE-2026-0001", "until", "2099-01-31", "reason", "no fix yet"))
	if page, _ := b.page("/audit?action=image.allow&text=CVE-2026-0001"); !strings.Contains(page, "<td>image:local</td>") {
		t.Errorf("the audit shows no image.allow of the CVE for the image:\n%s", page)
	}
	if exs, err := boss.ImageExceptions(ctx, "local"); err != nil || len(exs) != 1 || !exs[0].Until.Equal(time.Date(2099, 1, 31, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("the exception after the form: %+v (%v); want one until 2099-01-31 as that day begins, as the CLI reads a date", exs, err)
	}
	if page, _ := b.page("/admin"); !strings.Contains(page, `action="/admin/images/local/exceptions/CVE-2026-0001/delete"`) {
		t.Errorf("the administration page lists no exception to remove:\n%s", page)
	}
	b.post("/admin/images/local/exceptions/CVE-2026-0001/delete", f("confirm", "yes"))
	if exs, err := boss.ImageExceptions(ctx, "local"); err != nil || len(exs) != 0 {
		t.Errorf("the exception survives its removal: %+v (%v)", exs, err)
	}
	if page, _ := b.page("/audit?action=image.disallow&text=CVE-2026-0001"); !strings.Contains(page, "<td>image:local</td>") {
		t.Errorf("the audit shows no image.disallow of the CVE for the image:\n%s", page)
	}
	b.post("/admin/images/local/delete", f("confirm", "yes"))
	if _, err := boss.Image(ctx, "local"); err == nil {
		t.Errorf("the image survives its removal")
	}

	// The image policy.
	b.post("/admin/image-policy", f("max_severity", "high", "require_scan", "yes", "max_scan_age", "720h"))
	if p, err := boss.ImagePolicy(ctx); err != nil || p.MaxSeverity != "high" || !p.RequireScan {
		t.Errorf("the policy after the form: %+v (%v)", p, err)
	}
	b.post("/admin/image-policy", f("max_severity", "", "max_scan_age", ""))
	if p, err := boss.ImagePolicy(ctx); err != nil || p.MaxSeverity != "" || p.RequireScan {
		t.Errorf("the policy after clearing it: %+v (%v)", p, err)
	}

	// Observability: the token is write-only; an empty field keeps it.
	b.post("/admin/observability", f("enabled", "yes", "endpoint", "https://127.0.0.1:4318", "service_name", "dockyard-web", "token", "otel-secret-1234"))
	o, err := boss.Observability(ctx)
	if err != nil || !o.Enabled || o.Endpoint != "https://127.0.0.1:4318" || o.ServiceName != "dockyard-web" || !o.TokenSet {
		t.Errorf("observability after the form: %+v (%v)", o, err)
	}
	page, _ = b.page("/admin")
	if strings.Contains(page, "otel-secret-1234") {
		t.Errorf("the administration page shows the observability token")
	}
	b.post("/admin/observability", f("endpoint", "https://127.0.0.1:4318", "service_name", "dockyard-web"))
	if o, err := boss.Observability(ctx); err != nil || o.Enabled || !o.TokenSet {
		t.Errorf("observability after disabling (token kept): %+v (%v)", o, err)
	}
	b.post("/admin/observability", f("endpoint", "https://127.0.0.1:4318", "service_name", "dockyard-web", "remove_token", "yes"))
	if o, err := boss.Observability(ctx); err != nil || o.TokenSet {
		t.Errorf("observability after removing the token: %+v (%v)", o, err)
	}
}

// TestModelAndContainerForms: a model's description and tags are edited
// and an alias removed from its page; a container is shared from the
// dashboard; each checked against the API.
func TestModelAndContainerForms(t *testing.T) {
	ctx := context.Background()
	h := servertest.Start(t)
	olivia := h.User("olivia", access.RoleUser, access.RolePower, access.RoleContainerUser)
	for i := 0; i < 2; i++ {
		if _, _, err := olivia.ImportModelDir(ctx, "app:churn", modelDir(t, map[string]string{"m.pkl": string(rune('a' + i))}), "sk"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := olivia.SetModelAlias(ctx, "app:churn", "staging", 1, "try"); err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t, h)
	b.login("olivia", servertest.UserPassword)
	page, tok := b.page("/models/app:churn")
	if !strings.Contains(page, `id="update-form"`) || !strings.Contains(page, `action="/models/app:churn/aliases/staging/delete"`) {
		t.Fatalf("the model page lacks the update or alias removal form:\n%s", page)
	}
	if strings.Contains(page, `aliases/current/delete`) {
		t.Errorf("the page offers to remove the alias current")
	}
	b.post("/models/app:churn/update", url.Values{"csrf": {tok}, "description": {"Predicts churn"}, "tags": {"churn, q3"}})
	if s, err := olivia.Model(ctx, "app:churn"); err != nil || s.Description != "Predicts churn" || !slices.Equal(s.Tags, []string{"churn", "q3"}) {
		t.Errorf("the model after the form: %q %v (%v)", s.Description, s.Tags, err)
	}
	if resp, _ := b.do("POST", "/models/app:churn/aliases/staging/delete", url.Values{"csrf": {tok}}, nil); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("an unconfirmed alias removal answered %d, want 400", resp.StatusCode)
	}
	b.post("/models/app:churn/aliases/staging/delete", url.Values{"csrf": {tok}, "confirm": {"yes"}})
	if s, err := olivia.Model(ctx, "app:churn"); err != nil || s.Aliases["staging"] != 0 {
		t.Errorf("the alias survives its removal: %v (%v)", s.Aliases, err)
	}

	if _, err := olivia.StartContainer(ctx, "shared-one", wire.ContainerStart{}); err != nil {
		t.Fatalf("start a container: %v", err)
	}
	page, tok = b.page("/containers")
	if !strings.Contains(page, `class="inline share"`) {
		t.Fatalf("the dashboard offers the owner no share form:\n%s", page)
	}
	cs, err := olivia.Containers(ctx)
	if err != nil || len(cs) != 1 {
		t.Fatalf("containers: %v (%v)", cs, err)
	}
	b.post("/containers/"+url.PathEscape(cs[0].Name)+"/share", url.Values{"csrf": {tok}, "roles": {"power"}})
	cs, _ = olivia.Containers(ctx)
	if len(cs) != 1 || !slices.Equal(cs[0].Roles, []string{"power"}) {
		t.Errorf("the container after the share form: %+v", cs)
	}
}

// TestRoleEditGrantsOnlyWhatTheEditorHolds: a holder of edit_roles who
// lacks admin_all_objects cannot give it to a role through the edit form
// (not even to its own role), nor make a role inherit admin; the role
// stays as it was. The admin role cannot be changed at all.
func TestRoleEditGrantsOnlyWhatTheEditorHolds(t *testing.T) {
	ctx := context.Background()
	h := servertest.Start(t)
	boss := h.User("boss", access.RoleAdmin)
	if _, err := boss.AddRole(ctx, wire.RoleRequest{Name: "roleadmin", Capabilities: []string{string(access.CapEditRoles), string(access.CapSearch)}}); err != nil {
		t.Fatal(err)
	}
	h.User("rita", "roleadmin")
	b := newBrowser(t, h)
	b.login("rita", servertest.UserPassword)
	_, tok := b.page("/admin")
	for _, form := range []url.Values{
		{"csrf": {tok}, "capability": {"edit_roles", "search", "admin_all_objects"}},
		{"csrf": {tok}, "capability": {"edit_roles", "search"}, "inherit": {"admin"}},
	} {
		if resp, body := b.do("POST", "/admin/roles/roleadmin/update", form, nil); resp.StatusCode != http.StatusForbidden {
			t.Errorf("an escalating role edit answered %d, want 403: %.300s", resp.StatusCode, body)
		}
	}
	if resp, _ := b.do("POST", "/admin/roles/admin/update", url.Values{"csrf": {tok}, "capability": {"search"}}, nil); resp.StatusCode != http.StatusForbidden {
		t.Errorf("an edit of the admin role answered %d, want 403", resp.StatusCode)
	}
	roles, err := boss.Roles(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range roles {
		if r.Name == "roleadmin" && (slices.Contains(r.Capabilities, string(access.CapAdminAllObjects)) || len(r.Inherit) > 0) {
			t.Errorf("the role gained what its editor lacks: %+v", r)
		}
		if r.Name == access.RoleAdmin && !slices.Contains(r.EffectiveCapabilities, string(access.CapAdminAllObjects)) {
			t.Errorf("the admin role changed: %+v", r)
		}
	}
	// Within the editor's own capabilities it works.
	b.post("/admin/roles/roleadmin/update", url.Values{"csrf": {tok}, "capability": {"edit_roles"}})
	roles, _ = boss.Roles(ctx)
	if i := slices.IndexFunc(roles, func(r wire.Role) bool { return r.Name == "roleadmin" }); i < 0 || !slices.Equal(roles[i].Capabilities, []string{"edit_roles"}) {
		t.Errorf("a role edit within the editor's capabilities made %+v", roles)
	}
}
