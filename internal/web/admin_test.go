package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/dockyard/dockyard/internal/server/servertest"
)

// TestAuditAndAdministrationPages: the audit page shows the chain's status
// and the events its filters find; the administration page creates a
// user and a HEC token (whose secret is shown once) through the API.
func TestAuditAndAdministrationPages(t *testing.T) {
	ctx := context.Background()
	h := servertest.Start(t)
	b := newBrowser(t, h)
	b.login("admin", servertest.AdminPassword)

	page, _ := b.page("/audit?action=login&user=admin")
	if !strings.Contains(page, `id="chain" class="ok"`) {
		t.Errorf("the audit page does not show a verified chain:\n%s", page)
	}
	if strings.Count(page, `<tr class="event">`) < 1 || !strings.Contains(page, `user=&#34;admin&#34;`) {
		t.Errorf("the audit page shows no login event of admin, or not the search it ran:\n%s", page)
	}
	page, _ = b.page("/audit?user=nobody-at-all")
	if strings.Contains(page, `<tr class="event">`) {
		t.Errorf("a filter that matches nothing shows events")
	}

	page, tok := b.page("/admin")
	for _, id := range []string{`id="users"`, `id="roles"`, `id="apps"`, `id="hec"`, `id="images"`, `id="policy"`, `id="observability"`} {
		if !strings.Contains(page, id) {
			t.Errorf("the administration page lacks the section %s", id)
		}
	}
	resp, body := b.do("POST", "/admin/users", url.Values{"csrf": {tok}, "name": {"newbie"}, "password": {"newbie-password-1"}, "roles": {"user"}}, nil)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("create user: %d %s", resp.StatusCode, body)
	}
	if u, err := h.Srv.Access().GetUser(ctx, "newbie"); err != nil || len(u.Roles) != 1 || u.Roles[0] != "user" {
		t.Errorf("the form's user is %+v (%v)", u, err)
	}
	resp, body = b.do("POST", "/admin/hec-tokens", url.Values{"csrf": {tok}, "name": {"web-hec"}, "indexes": {"main"}}, nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `id="new-hec-token"`) {
		t.Fatalf("create HEC token: %d %s", resp.StatusCode, body)
	}
	page, _ = b.page("/admin")
	if !strings.Contains(page, "web-hec") || strings.Contains(page, `id="new-hec-token"`) {
		t.Errorf("the HEC token is not listed, or its secret is shown again")
	}
}
