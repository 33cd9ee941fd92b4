package cli

import (
	"strings"
	"testing"

	"github.com/dockyard/dockyard/internal/server/servertest"
)

func TestGPUCommands(t *testing.T) {
	h := servertest.Start(t)
	admin := loginVars(t, h, "admin", servertest.AdminPassword)
	steps := []struct {
		args []string
		code int
		want string // in stdout when code is 0, else in stderr
	}{
		{[]string{"gpu", "quota", "set", "--max", "2"}, 2, "--user USER or --role ROLE"},
		{[]string{"gpu", "quota", "set", "--user", "admin", "--role", "admin", "--max", "2"}, 2, "not both"},
		{[]string{"gpu", "quota", "set", "--user", "admin"}, 2, "--max N"},
		{[]string{"gpu", "quota", "set", "--user", "nobody", "--max", "1"}, 3, "dockyard users list"},
		{[]string{"gpu", "quota", "set", "--user", "admin", "--max", "-1"}, 1, "0 or more"},
		{[]string{"gpu", "quota", "set", "--role", "admin", "--max", "4"}, 0, "role"},
		{[]string{"gpu", "quota", "set", "--user", "admin", "--max", "2"}, 0, "admin"},
		{[]string{"gpu", "quota", "list", "-o", "csv"}, 0, "role,admin,4,admin,"},
		{[]string{"gpu", "list"}, 0, "the quota of user admin"},
		{[]string{"gpu", "list", "-o", "json"}, 0, `"max": 2`},
		{[]string{"gpu", "quota", "remove", "--user", "admin"}, 2, "--yes"},
		{[]string{"gpu", "quota", "remove", "--user", "admin", "--yes"}, 0, "Removed the GPU quota of user admin"},
		{[]string{"gpu", "list"}, 0, "role admin"},
		{[]string{"gpu", "quota", "remove", "--user", "admin", "--yes"}, 3, "no GPU quota"},
	}
	for _, s := range steps {
		runWant(t, admin, "", s.code, s.want, s.args...)
	}
	out, _, _ := run(t, admin, "", "gpu", "list")
	if !strings.Contains(out, "process") || !strings.Contains(out, "gives no GPUs") {
		t.Errorf("gpu list lacks the process runtime:\n%s", out)
	}
}
