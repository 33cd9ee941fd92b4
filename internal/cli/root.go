// Package cli implements the dockyard command line: the server and agent
// commands and every client command docs/cli.md lists, with table, JSON and
// CSV output.
package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/dockyard/dockyard/internal/client"
)

// Env is what a command runs with: its streams and the environment.
type Env struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	Getenv         func(string) string
	Environ        func() []string
}

// globals are the client settings every client command shares.
type globals struct {
	server, caFile, token, configDir, app, output string
}

// Main runs the command line and returns the exit code.
func Main(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	env := &Env{Stdin: stdin, Stdout: stdout, Stderr: stderr, Getenv: os.Getenv, Environ: os.Environ}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	warnUnknownEnv(stderr, env.Environ())
	return env.Run(ctx, args)
}

// Run runs the command line args in env, prints the error if any, and
// returns the exit code (see ExitCodesHelp).
func (env *Env) Run(ctx context.Context, args []string) int {
	root := NewRoot(env)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err != nil && ctx.Err() != nil {
		// Interrupted: what failed is the work the signal cut short.
		fmt.Fprintln(env.Stderr, "error: interrupted:", err)
		return ExitInterrupted
	}
	if err != nil {
		fmt.Fprintln(env.Stderr, "error:", err)
	}
	return exitCodeOf(err)
}

// NewRoot builds the command tree.
func NewRoot(env *Env) *cobra.Command {
	g := &globals{}
	root := &cobra.Command{
		Use:           "dockyard",
		Short:         "Dockyard: machine learning in throwaway containers, with governance built in",
		Long:          "Dockyard: machine learning in throwaway containers, with governance built in.\n\n" + ExitCodesHelp,
		Version:       buildVersion().String(),
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetIn(env.Stdin)
	root.SetOut(env.Stdout)
	root.SetErr(env.Stderr)
	pf := clientFlagSet()
	pf.StringVar(&g.server, "server", "", "server URL (env DOCKYARD_SERVER, default https://127.0.0.1:8089)")
	pf.StringVar(&g.caFile, "ca-file", "", "CA bundle that verifies the server (env DOCKYARD_CA_FILE)")
	pf.StringVar(&g.token, "token", "", "bearer token (env DOCKYARD_TOKEN)")
	pf.StringVar(&g.configDir, "config-dir", "", "where login keeps its token (env DOCKYARD_CONFIG_DIR, default ~/.config/dockyard)")
	pf.StringVar(&g.app, "app", "", "app context (env DOCKYARD_APP, default: your default app)")
	pf.StringVarP(&g.output, "output", "o", "table", "output format: "+strings.Join(outputFormats, ", "))
	root.PersistentPreRunE = func(cmd *cobra.Command, _ []string) error { return checkOutput(cmd, g) }

	root.AddCommand(
		newServerCmd(env),
		newQuickstartCmd(env),
		newLoginCmd(env, g),
		newLogoutCmd(env, g),
		newWhoamiCmd(env, g),
		newUsersCmd(env, g),
		newRolesCmd(env, g),
		newTokensCmd(env, g),
		newVersionCmd(env, g),
	)
	for _, add := range extraCommands {
		root.AddCommand(add(env, g))
	}
	attachClientFlags(root, pf)
	attachCompletions(root, env, g)
	root.SetVersionTemplate("{{.Version}}\n")
	usageChecks(root) // last: it walks the whole tree
	return root
}

// extraCommands are added by other files of this package (one per domain).
var extraCommands []func(*Env, *globals) *cobra.Command

// setting picks a flag value, else the environment variable, else def.
func (env *Env) setting(flag, envName, def string) string {
	if flag != "" {
		return flag
	}
	if v := env.Getenv(envName); v != "" {
		return v
	}
	return def
}

func (env *Env) configDir(g *globals) string {
	def := ""
	if home, err := os.UserHomeDir(); err == nil {
		def = filepath.Join(home, ".config", "dockyard")
	}
	return env.setting(g.configDir, "DOCKYARD_CONFIG_DIR", def)
}

// client builds an API client from flags, environment and the saved login.
func (env *Env) client(g *globals) (*client.Client, error) {
	saved, _ := loadCredentials(env.configDir(g))
	server := env.setting(g.server, "DOCKYARD_SERVER", "")
	caFile := env.setting(g.caFile, "DOCKYARD_CA_FILE", "")
	token := env.setting(g.token, "DOCKYARD_TOKEN", "")
	if server == "" || server == saved.Server {
		if server == "" {
			server = saved.Server
		}
		if caFile == "" {
			caFile = saved.CAFile
		}
		if token == "" {
			token = saved.Token
		}
	}
	if server == "" {
		server = "https://127.0.0.1:8089"
	}
	return client.New(client.Options{
		Server: server, CAFile: caFile, Token: token,
		App: env.setting(g.app, "DOCKYARD_APP", ""),
	})
}

// needArgs is a cobra Args check whose message says what is missing.
func needArgs(n int, what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return usagef("%s needs %s (see `%s --help`)", cmd.CommandPath(), what, cmd.CommandPath())
		}
		return nil
	}
}
