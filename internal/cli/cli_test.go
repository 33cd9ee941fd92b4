package cli

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/dockyard/dockyard/internal/server/servertest"
	"github.com/dockyard/dockyard/internal/wire"
)

// run runs the CLI with args and stdin, in an environment that has only the
// given variables, and returns stdout, stderr and the exit code.
// runWant runs one command of a scripted test and fails t unless it exits
// with code and its output (standard error when code is not 0) holds want.
func runWant(t *testing.T, vars map[string]string, stdin string, code int, want string, args ...string) (string, string) {
	t.Helper()
	out, e, got := run(t, vars, stdin, args...)
	text := out
	if code != 0 {
		text = e
	}
	if got != code || !strings.Contains(text, want) {
		t.Fatalf("%s: exit %d, out %q, err %q; want exit %d with %q", strings.Join(args, " "), got, out, e, code, want)
	}
	return out, e
}

func run(t *testing.T, vars map[string]string, stdin string, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	env := &Env{
		Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errb,
		Getenv: func(k string) string { return vars[k] },
		Environ: func() []string {
			var l []string
			for k, v := range vars {
				l = append(l, k+"="+v)
			}
			return l
		},
	}
	code := env.Run(t.Context(), args)
	return out.String(), errb.String(), code
}

func TestLoginWhoamiUsersRolesTokens(t *testing.T) {
	h := servertest.Start(t)
	vars := map[string]string{
		"DOCKYARD_SERVER":     h.Srv.URL(),
		"DOCKYARD_CA_FILE":    h.Srv.CAFile(),
		"DOCKYARD_CONFIG_DIR": t.TempDir(),
	}
	if _, e, code := run(t, vars, servertest.AdminPassword+"\n", "login", "--user", "admin", "--password-stdin"); code != 0 {
		t.Fatalf("login: %s", e)
	}
	out, e, code := run(t, vars, "", "whoami", "-o", "json")
	if code != 0 {
		t.Fatalf("whoami: %s", e)
	}
	var w struct {
		User         string   `json:"user"`
		Roles        []string `json:"roles"`
		Capabilities []string `json:"capabilities"`
		DefaultApp   string   `json:"default_app"`
	}
	if err := json.Unmarshal([]byte(out), &w); err != nil {
		t.Fatalf("whoami -o json is not JSON: %v\n%s", err, out)
	}
	if w.User != "admin" || len(w.Capabilities) == 0 || w.DefaultApp == "" {
		t.Fatalf("whoami: %+v", w)
	}
	if _, e, code := run(t, vars, "alice-password-1\n", "users", "add", "alice", "--roles", "user,mltk_container_user", "--password-stdin"); code != 0 {
		t.Fatalf("users add: %s", e)
	}
	out, _, _ = run(t, vars, "", "users", "list", "-o", "json")
	if !strings.Contains(out, `"alice"`) {
		t.Fatalf("users list: %s", out)
	}
	if _, e, code := run(t, vars, "", "roles", "add", "analysts", "--capabilities", "search", "--inherit", "user"); code != 0 {
		t.Fatalf("roles add: %s", e)
	}
	if _, e, code := run(t, vars, "", "roles", "set", "analysts", "--capabilities", "search,list_mltk_container"); code != 0 {
		t.Fatalf("roles set: %s", e)
	}
	out, _, _ = run(t, vars, "", "roles", "list", "-o", "json")
	var after []wire.Role
	if err := json.Unmarshal([]byte(out), &after); err != nil {
		t.Fatalf("roles list: %v %s", err, out)
	}
	if i := slices.IndexFunc(after, func(r wire.Role) bool { return r.Name == "analysts" }); i < 0 ||
		!slices.Equal(after[i].Capabilities, []string{"list_mltk_container", "search"}) || !slices.Equal(after[i].Inherit, []string{"user"}) {
		t.Fatalf("roles set did not replace the capabilities only: %s", out)
	}
	_, e, code = run(t, vars, "", "roles", "add", "bad", "--capabilities", "fly_to_moon")
	if code == 0 || !strings.Contains(e, "fly_to_moon") {
		t.Fatalf("unknown capability: code %d, %s", code, e)
	}
	out, _, _ = run(t, vars, "", "roles", "list", "-o", "json")
	var roles []map[string]any
	if err := json.Unmarshal([]byte(out), &roles); err != nil || len(roles) < 6 {
		t.Fatalf("roles list: %v %s", err, out)
	}
	out, e, code = run(t, vars, "", "tokens", "create", "--name", "ci", "--expires", "720h", "-o", "json")
	if code != 0 {
		t.Fatalf("tokens create: %s", e)
	}
	var tok struct{ Name, Token string }
	if err := json.Unmarshal([]byte(out), &tok); err != nil || tok.Name != "ci" || !strings.HasPrefix(tok.Token, "dyt_") {
		t.Fatalf("tokens create -o json: %v %s", err, out)
	}
	// The new token works on its own.
	vars2 := map[string]string{"DOCKYARD_SERVER": h.Srv.URL(), "DOCKYARD_CA_FILE": h.Srv.CAFile(), "DOCKYARD_TOKEN": tok.Token, "DOCKYARD_CONFIG_DIR": t.TempDir()}
	if out, e, code := run(t, vars2, "", "whoami"); code != 0 || !strings.Contains(out, "admin") {
		t.Fatalf("whoami with API token: %s %s", out, e)
	}
}

func TestWrongOrMissingCA(t *testing.T) {
	h := servertest.Start(t)
	other := servertest.Start(t)
	for name, ca := range map[string]string{"missing": "", "wrong": other.Srv.CAFile()} {
		vars := map[string]string{"DOCKYARD_SERVER": h.Srv.URL(), "DOCKYARD_CONFIG_DIR": t.TempDir()}
		if ca != "" {
			vars["DOCKYARD_CA_FILE"] = ca
		}
		_, e, code := run(t, vars, servertest.AdminPassword+"\n", "login", "--user", "admin", "--password-stdin")
		if code == 0 || !strings.Contains(e, "--ca-file") || !strings.Contains(e, "fingerprint") {
			t.Errorf("%s CA: want an error naming --ca-file and the fingerprint, got code %d: %s", name, code, e)
		}
	}
}

func TestBadInput(t *testing.T) {
	vars := map[string]string{"DOCKYARD_CONFIG_DIR": t.TempDir()}
	_, e, code := run(t, vars, "", "login", "--user", "admin", "--password-stdin")
	if code == 0 || !strings.Contains(e, "standard input") {
		t.Errorf("empty password: %s", e)
	}
	_, e, code = run(t, vars, "", "users", "list", "-o", "yaml", "--server", "http://127.0.0.1:1")
	if code == 0 || !strings.Contains(e, "https") {
		t.Errorf("http server URL: %s", e)
	}
	_, e, code = run(t, vars, "", "server", "--addr", "nonsense", "--data", t.TempDir())
	if code == 0 || !strings.Contains(e, `"addr"`) {
		t.Errorf("bad --addr: %s", e)
	}
}
