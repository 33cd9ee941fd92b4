package cli

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/dockyard/dockyard/internal/server/servertest"
	"github.com/dockyard/dockyard/internal/wire"
)

func TestContainersShare(t *testing.T) {
	h := servertest.Start(t)
	vars := map[string]string{
		"DOCKYARD_SERVER":     h.Srv.URL(),
		"DOCKYARD_CA_FILE":    h.Srv.CAFile(),
		"DOCKYARD_CONFIG_DIR": t.TempDir(),
	}
	if _, e, code := run(t, vars, servertest.AdminPassword+"\n", "login", "--user", "admin", "--password-stdin"); code != 0 {
		t.Fatalf("login: %s", e)
	}
	if _, e, code := run(t, vars, "", "containers", "start", "box"); code != 0 {
		t.Fatalf("containers start: %s", e)
	}
	share := func(args ...string) (wire.Container, string) {
		t.Helper()
		out, e, code := run(t, vars, "", append([]string{"containers", "share", "box", "-o", "json"}, args...)...)
		if code != 0 {
			return wire.Container{}, e
		}
		var c wire.Container
		if err := json.Unmarshal([]byte(out), &c); err != nil {
			t.Fatalf("containers share -o json: %v\n%s", err, out)
		}
		return c, ""
	}
	if c, e := share("--roles", "user, power,user"); e != "" || strings.Join(c.Roles, ",") != "power,user" {
		t.Fatalf("share --roles = %+v, %s", c, e)
	}
	out, e, code := run(t, vars, "", "containers", "list")
	if code != 0 || !strings.Contains(out, "SHARED") || !strings.Contains(out, "power,user") {
		t.Errorf("containers list = %s, %s; want the roles it is shared with", out, e)
	}
	for _, bad := range [][]string{{}, {"--roles", "user", "--clear"}} {
		if _, e := share(bad...); !strings.Contains(e, "exactly one of --roles") {
			t.Errorf("share %q = %q, want a usage error", bad, e)
		}
	}
	if _, e := share("--roles", "nosuchrole"); !strings.Contains(e, `unknown role "nosuchrole"`) {
		t.Errorf("share with an unknown role = %q", e)
	}
	if c, e := share("--roles", ""); e != "" || len(c.Roles) != 0 {
		t.Errorf("share --roles '' = %+v, %s; want unshared", c, e)
	}
	share("--roles", "user")
	if c, e := share("--clear"); e != "" || len(c.Roles) != 0 {
		t.Errorf("share --clear = %+v, %s; want unshared", c, e)
	}
	if _, e := share("--roles", "user", "x"); e == "" {
		t.Errorf("share with two names succeeded")
	}
	if _, e, _ := run(t, vars, "", "containers", "share", "nosuch", "--clear"); !strings.Contains(e, "container not found: nosuch") {
		t.Errorf("share a missing container = %q", e)
	}
}
