package cli

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/dockyard/dockyard/internal/access"
	"github.com/dockyard/dockyard/internal/server/servertest"
)

func TestAppsCommands(t *testing.T) {
	h := servertest.Start(t)
	h.User("nora", access.RoleUser)
	admin := loginVars(t, h, "admin", servertest.AdminPassword)
	nora := loginVars(t, h, "nora", servertest.UserPassword)
	if _, e, code := run(t, admin, "", "apps", "create", "hr", "--read", "power", "--write", "admin"); code != 0 {
		t.Fatalf("apps create: %s", e)
	}
	out, e, code := run(t, admin, "", "apps", "show", "hr", "-o", "json")
	var a struct {
		Name        string
		Read, Write []string
	}
	if code != 0 || json.Unmarshal([]byte(out), &a) != nil || a.Name != "hr" || strings.Join(a.Read, ",") != "power" || strings.Join(a.Write, ",") != "admin" {
		t.Fatalf("apps show: %s %s", out, e)
	}
	if out, _, _ := run(t, admin, "", "apps", "list"); !strings.Contains(out, "hr") || !strings.Contains(out, "search") {
		t.Errorf("admin's apps list: %s", out)
	}
	if out, _, _ := run(t, nora, "", "apps", "list"); strings.Contains(out, "hr") {
		t.Errorf("nora lists hr: %s", out)
	}
	if _, e, code := run(t, nora, "", "--app", "hr", "whoami"); code == 0 || !strings.Contains(e, "app not found: hr") {
		t.Errorf("nora --app hr: %s", e)
	}
	if _, e, code := run(t, admin, "", "apps", "update", "hr", "--read", "*"); code != 0 {
		t.Fatalf("apps update: %s", e)
	}
	if out, e, code := run(t, nora, "", "--app", "hr", "whoami"); code != 0 {
		t.Errorf("nora --app hr after update: %s %s", out, e)
	}
	if _, e, code := run(t, admin, "", "apps", "update", "hr"); code == 0 || !strings.Contains(e, "changes nothing") {
		t.Errorf("apps update without flags: %s", e)
	}
	if _, e, code := run(t, nora, "", "apps", "create", "mine"); code == 0 || !strings.Contains(e, "admin_all_objects") {
		t.Errorf("nora apps create: %s", e)
	}
	if out, e, code := run(t, admin, "", "apps", "delete", "hr", "--yes"); code != 0 || !strings.Contains(out, "Deleted app hr") {
		t.Errorf("apps delete: %s %s", out, e)
	}
}
