package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// TestCLIDocsUpToDate fails when docs/cli.md is not what the commands
// generate.
func TestCLIDocsUpToDate(t *testing.T) {
	want := cliDocs()
	b, err := os.ReadFile(filepath.Join("..", "..", "docs", "cli.md"))
	if err != nil {
		t.Fatalf("%v; write it with `%s`", err, regenerateDocs)
	}
	if got := string(b); got != want {
		gl, wl := strings.Split(got, "\n"), strings.Split(want, "\n")
		i := 0
		for i < len(gl) && i < len(wl) && gl[i] == wl[i] {
			i++
		}
		line := func(l []string) string {
			if i < len(l) {
				return l[i]
			}
			return "(end of file)"
		}
		t.Fatalf("docs/cli.md is stale: regenerate it with `%s` (from the repository root).\nFirst difference, line %d:\n  file:     %s\n  commands: %s",
			regenerateDocs, i+1, line(gl), line(wl))
	}
}

// TestCLIDocsCoverEveryCommand checks the generator itself: every visible
// command has its section, and the hidden one has none.
func TestCLIDocsCoverEveryCommand(t *testing.T) {
	page := cliDocs()
	root := NewRoot(&Env{Getenv: func(string) string { return "" }, Environ: func() []string { return nil }})
	n := 0
	walk(root, func(cmd *cobra.Command) {
		if !cmd.HasParent() || hiddenDoc(cmd) {
			return
		}
		n++
		if !strings.Contains(page, "# "+cmd.CommandPath()+"\n") {
			t.Errorf("docs/cli.md has no section for %q", cmd.CommandPath())
		}
	})
	for _, want := range []string{"## Exit codes", "  3  not found", "## Client flags", "--server string", "## dockyard completion", "### dockyard models alias set", "--dangerously-skip-integrity-check"} {
		if !strings.Contains(page, want) {
			t.Errorf("docs/cli.md lacks %q", want)
		}
	}
	if n < 50 || strings.Contains(page, docsCommand) {
		t.Errorf("%d commands documented; the hidden %s must not be", n, docsCommand)
	}
}

// TestOwnFlagsOnly: the server, agent and quickstart take their own flags,
// not the client flags; client commands take both.
func TestOwnFlagsOnly(t *testing.T) {
	client := []string{"--server", "--ca-file", "--token", "--config-dir", "--app", "--output"}
	for _, cmd := range []string{"server", "agent", "quickstart"} {
		out, e, code := run(t, nil, "", cmd, "--help")
		if code != 0 {
			t.Fatalf("%s --help: %s", cmd, e)
		}
		for _, f := range client {
			if strings.Contains(out, f+" ") {
				t.Errorf("`dockyard %s --help` lists the client flag %s:\n%s", cmd, f, out)
			}
		}
		if _, e, code := run(t, nil, "", cmd, "--server", "https://127.0.0.1:1", "--help"); code == 0 || !strings.Contains(e, "unknown flag: --server") {
			t.Errorf("`dockyard %s --server X` = %d, %s; want unknown flag", cmd, code, e)
		}
	}
	out, _, _ := run(t, nil, "", "models", "list", "--help")
	for _, f := range client {
		if !strings.Contains(out, f+" ") {
			t.Errorf("`dockyard models list --help` lacks %s:\n%s", f, out)
		}
	}
	// Client flags before the command still work.
	_, e, _ := run(t, map[string]string{"DOCKYARD_CONFIG_DIR": t.TempDir()}, "", "--server", "http://127.0.0.1:1", "-o", "json", "whoami")
	if !strings.Contains(e, "https") {
		t.Errorf("--server before the command was not used: %s", e)
	}
}

// TestAgentFlags parses, through the cobra command, the arguments the
// container runtimes start the agent with (internal/runtime/process
// agentcmd.go, internal/runtime/docker create.go).
func TestAgentFlags(t *testing.T) {
	cmd := newAgentCmd(&Env{}, nil)
	args := []string{"--addr", "0.0.0.0:9000", "--cert", "/s/cert.pem", "--key", "/s/key.pem",
		"--token-file", "/s/token", "--env-file", "/s/start.env", "--root", "/srv",
		"--client-ca", "/s/client-ca.pem", "--python", "/usr/bin/python3", "--pandas", "never", "--max-body", "1024"}
	if err := cmd.ParseFlags(args); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{"addr": "0.0.0.0:9000", "token-file": "/s/token", "env-file": "/s/start.env",
		"root": "/srv", "client-ca": "/s/client-ca.pem", "python": "/usr/bin/python3", "pandas": "never", "max-body": "1024"} {
		if got := cmd.Flags().Lookup(name).Value.String(); got != want {
			t.Errorf("--%s = %q, want %q", name, got, want)
		}
	}
	if err := cmd.Args(cmd, []string{"stray"}); err == nil {
		t.Error("the agent accepts a stray argument")
	}
}
