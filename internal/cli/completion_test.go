package cli

import (
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/dockyard/dockyard/internal/server/servertest"
)

// completeArgs runs cobra's hidden `__complete` command, as a shell's
// completion script does, and returns the candidates and the directive.
func completeArgs(t *testing.T, vars map[string]string, args ...string) ([]string, string) {
	t.Helper()
	out, e, code := run(t, vars, "", append([]string{cobra.ShellCompRequestCmd}, args...)...)
	if code != 0 {
		t.Fatalf("__complete %q exited %d: %s", args, code, e)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	directive := lines[len(lines)-1]
	var names []string
	for _, l := range lines[:len(lines)-1] {
		name, _, _ := strings.Cut(l, "\t")
		names = append(names, name)
	}
	return names, directive
}

// Directives as __complete prints them.
const (
	noFiles       = ":4" // ShellCompDirectiveNoFileComp
	noFilesFailed = ":5" // ShellCompDirectiveNoFileComp | ShellCompDirectiveError
)

func TestCompletionOfServerNames(t *testing.T) {
	h := servertest.Start(t)
	admin := loginVars(t, h, "admin", servertest.AdminPassword)
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "model.pkl"), []byte("weights"), 0o644)
	nb := filepath.Join(t.TempDir(), "nb1.py")
	os.WriteFile(nb, []byte("def fit(df, param):\n    return {}\n"), 0o644)
	csv := filepath.Join(t.TempDir(), "hosts.csv")
	os.WriteFile(csv, []byte("host,owner\na,b\n"), 0o644)
	for _, args := range [][]string{
		{"models", "import", "churn", "--from", dir},
		{"models", "import", "churn", "--from", dir},
		{"models", "import", "chat", "--from", dir},
		{"models", "alias", "set", "churn", "staging", "1"},
		{"notebooks", "push", nb},
		{"lookups", "upload", csv},
		{"apps", "create", "hr"},
		{"containers", "start", "box"},
	} {
		modelsRunOK(t, admin, args...)
	}

	for _, c := range []struct {
		args []string
		want []string
	}{
		{[]string{"models", "show", ""}, []string{"chat", "churn"}},
		{[]string{"models", "delete", "chu"}, []string{"churn"}},
		{[]string{"models", "show", "churn@"}, []string{"churn@1", "churn@2", "churn@current", "churn@staging"}},
		{[]string{"models", "show", "search:ch"}, []string{"search:chat", "search:churn"}},
		{[]string{"models", "alias", "set", "churn", ""}, []string{"current", "staging"}},
		{[]string{"models", "alias", "set", "churn", "staging", ""}, []string{"1", "2"}},
		{[]string{"models", "alias", "set", "churn", "staging", "1", ""}, nil},
		{[]string{"models", "rollback", "churn", "--to", ""}, []string{"1", "2"}},
		{[]string{"notebooks", "show", ""}, []string{"nb1"}},
		{[]string{"notebooks", "show", "nb1", "--version", ""}, []string{"1"}},
		{[]string{"lookups", "delete", ""}, []string{"hosts.csv"}},
		{[]string{"containers", "stop", ""}, []string{"box"}},
		{[]string{"containers", "start", "other", "--model", "ch"}, []string{"chat", "churn"}},
		{[]string{"apps", "show", "h"}, []string{"hr"}},
		{[]string{"lookups", "list", "--app", ""}, []string{"hr", "search"}},
	} {
		got, directive := completeArgs(t, admin, c.args...)
		if !slices.Equal(got, c.want) || directive != noFiles {
			t.Errorf("complete %q = %q %s, want %q %s", c.args, got, directive, c.want, noFiles)
		}
	}

	// Failures complete nothing, quickly: no login, a server that does
	// not answer.
	vars := map[string]string{"DOCKYARD_SERVER": h.Srv.URL(), "DOCKYARD_CA_FILE": h.Srv.CAFile(), "DOCKYARD_CONFIG_DIR": t.TempDir()}
	if got, directive := completeArgs(t, vars, "models", "show", ""); len(got) != 0 || directive != noFilesFailed {
		t.Errorf("complete without a login = %q %s, want nothing and %s", got, directive, noFilesFailed)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close() // accepts connections (the kernel's backlog) and never answers
	vars["DOCKYARD_SERVER"] = "https://" + ln.Addr().String()
	start := time.Now()
	got, directive := completeArgs(t, vars, "containers", "stop", "")
	if len(got) != 0 || directive != noFilesFailed {
		t.Errorf("complete against a silent server = %q %s, want nothing and %s", got, directive, noFilesFailed)
	}
	if d := time.Since(start); d > completeTimeout+2*time.Second {
		t.Errorf("complete against a silent server took %v, want about %v", d, completeTimeout)
	}
}

// TestCompletionPaths keeps the completers' command paths and flags in
// step with the command tree.
func TestCompletionPaths(t *testing.T) {
	root := NewRoot(&Env{Getenv: func(string) string { return "" }, Environ: func() []string { return nil }})
	find := func(path string) *cobra.Command {
		cmd, rest, err := root.Find(strings.Fields(path))
		if err != nil || len(rest) != 0 || commandPath(cmd) != path {
			t.Errorf("completion for %q: no such command", path)
			return nil
		}
		return cmd
	}
	for path := range argCompleters {
		if cmd := find(path); cmd != nil && cmd.ValidArgsFunction == nil {
			t.Errorf("%q has no completion function", path)
		}
	}
	for path, flags := range flagCompleters {
		if cmd := find(path); cmd != nil {
			for f := range flags {
				if _, ok := cmd.GetFlagCompletionFunc(f); !ok {
					t.Errorf("%s --%s has no completion function", path, f)
				}
			}
		}
	}
	if cmd := find("models show"); cmd != nil {
		if _, ok := cmd.GetFlagCompletionFunc("app"); !ok {
			t.Error("--app has no completion function")
		}
	}
}
