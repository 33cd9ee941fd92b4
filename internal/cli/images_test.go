package cli

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/dockyard/dockyard/internal/access"
	"github.com/dockyard/dockyard/internal/server/servertest"
)

func TestImagesCommands(t *testing.T) {
	h := servertest.Start(t)
	h.User("ds", access.RoleContainerUser)
	admin := loginVars(t, h, "admin", servertest.AdminPassword)
	ds := loginVars(t, h, "ds", servertest.UserPassword)
	if out, e, code := run(t, admin, "", "images", "add", "cpu-local", "--runtime", "process", "--title", "Local CPU"); code != 0 || !strings.Contains(out, "cpu-local") || !strings.Contains(out, "sha256:") {
		t.Fatalf("images add: %s %s", out, e)
	}
	out, e, code := run(t, ds, "", "images", "show", "cpu-local", "-o", "json")
	var im struct {
		Name, Runtime, Digest, Title string
	}
	if code != 0 || json.Unmarshal([]byte(out), &im) != nil || im.Runtime != "process" || !strings.HasPrefix(im.Digest, "sha256:") || im.Title != "Local CPU" {
		t.Fatalf("images show: %s %s", out, e)
	}
	if out, _, _ := run(t, ds, "", "images", "list"); !strings.Contains(out, "dockyard/process") || !strings.Contains(out, "cpu-local") {
		t.Errorf("images list: %s", out)
	}
	for _, tc := range []struct {
		vars map[string]string
		args []string
		code int
		want string
	}{
		{admin, []string{"images", "add", "x"}, 2, "needs --ref REF"},
		{admin, []string{"images", "add"}, 2, "NAME"},
		{admin, []string{"images", "add", "Bad Name", "--ref", "registry.example.com/x:1"}, 1, "image name"},
		{admin, []string{"images", "add", "x", "--ref", "registry.example.com/x:1", "--runtime", "lxc"}, 1, "use docker, kubernetes or process"},
		{admin, []string{"images", "add", "x", "--ref", "x:1", "--runtime", "kubernetes"}, 1, "a registry the cluster pulls from"},
		{admin, []string{"images", "show", "nope"}, 3, "dockyard images add nope"},
		{admin, []string{"images", "remove", "dockyard/process", "--yes"}, 1, "built in"},
		{admin, []string{"images", "remove", "cpu-local"}, 2, "--yes"},
		{ds, []string{"images", "add", "y", "--runtime", "process"}, 4, "configure_mltk_container"},
	} {
		if _, e, code := run(t, tc.vars, "", tc.args...); code != tc.code || !strings.Contains(e, tc.want) {
			t.Errorf("%s: exit %d, %q; want exit %d saying %q", strings.Join(tc.args, " "), code, e, tc.code, tc.want)
		}
	}
	if out, e, code := run(t, ds, "", "containers", "start", "web", "--image", "cpu-local"); code != 0 || !strings.Contains(out, "cpu-local") {
		t.Fatalf("containers start --image cpu-local: %s %s", out, e)
	}
	if _, e, code := run(t, ds, "", "containers", "start", "raw", "--image", "python:3.12"); code != 3 || !strings.Contains(e, "not in the catalogue") {
		t.Errorf("start from an image not in the catalogue: exit %d %s", code, e)
	}
	if _, e, code := run(t, ds, "", "containers", "remove", "web", "--yes"); code != 0 {
		t.Fatalf("containers remove: %s", e)
	}
	if out, e, code := run(t, admin, "", "images", "update", "cpu-local", "--title", "CPU"); code != 0 || !strings.Contains(out, "CPU") {
		t.Errorf("images update: %s %s", out, e)
	}
	if out, e, code := run(t, admin, "", "images", "remove", "cpu-local", "--yes"); code != 0 || !strings.Contains(out, "Removed image cpu-local") {
		t.Errorf("images remove: %s %s", out, e)
	}
}
