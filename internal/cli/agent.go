package cli

import (
	"github.com/spf13/cobra"

	"github.com/dockyard/dockyard/internal/agent"
)

func init() { extraCommands = append(extraCommands, newAgentCmd) }

// newAgentCmd is `dockyard agent`: the in-container agent, which the
// container runtimes start (internal/runtime/process and docker give it
// --addr, --cert, --key, --token-file, --env-file, --root and, where set,
// --client-ca and --python). Its flags are the agent's own (agent.NewFlags),
// without the client flags.
func newAgentCmd(env *Env, _ *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "agent [--addr HOST:PORT] [--cert FILE --key FILE] [--token-file FILE] [--root DIR] [--python PATH]",
		Short: "Run the in-container agent (started by the container runtimes)",
		Long: `Runs inside each container and serves the agent API (fit, apply, summary) over
HTTPS; the container runtimes start it, and nobody needs to run it by hand. The token
comes from --token-file or DOCKYARD_AGENT_TOKEN, never from the command line; trace
export is configured by the DOCKYARD_OTEL_* variables. See docs/containers.md.`,
		Args: cobra.NoArgs,
	}
	flags := agent.NewFlags(cmd.Flags())
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		return flags.Run(cmd.Context(), env.Stderr)
	}
	return cmd
}
