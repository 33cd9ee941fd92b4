package cli

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"

	"github.com/dockyard/dockyard/internal/server/servertest"
	"github.com/dockyard/dockyard/internal/wire"
)

// TestContainersOpen starts the caller's development container with
// Debian's Jupyter, waits until Jupyter answers through the server and
// prints its URL.
func TestContainersOpen(t *testing.T) {
	if _, err := exec.LookPath("jupyter-notebook"); err != nil {
		t.Skip("jupyter-notebook is not installed (Debian: apt-get install jupyter-notebook python3-notebook python3-ipykernel)")
	}
	cfg := servertest.Config(t.TempDir())
	cfg.Containers.Jupyter.Enabled = true
	h := servertest.StartConfig(t, cfg)
	vars := map[string]string{
		"DOCKYARD_SERVER":     h.Srv.URL(),
		"DOCKYARD_CA_FILE":    h.Srv.CAFile(),
		"DOCKYARD_CONFIG_DIR": t.TempDir(),
	}
	if _, e, code := run(t, vars, servertest.AdminPassword+"\n", "login", "--user", "admin", "--password-stdin"); code != 0 {
		t.Fatalf("login: %s", e)
	}
	if _, e, code := run(t, vars, "", "containers", "open", "box"); code != 2 || !strings.Contains(e, "only development containers") {
		t.Errorf("open box: exit %d, %s; want a usage error", code, e)
	}
	out, e, code := run(t, vars, "", "containers", "open", "-o", "json")
	if code != 0 {
		t.Fatalf("containers open: %s", e)
	}
	var o wire.JupyterOpen
	if err := json.Unmarshal([]byte(out), &o); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if o.URL != strings.TrimRight(h.Srv.URL(), "/")+"/jupyter/admin/__dev__/" || !o.Ready || o.Owner != "admin" {
		t.Errorf("open = %+v", o)
	}
	out, e, code = run(t, vars, "", "containers", "open", "--no-browser")
	if code != 0 || strings.TrimSpace(out) != o.URL {
		t.Errorf("open (table) = %q, %s", out, e)
	}
}
