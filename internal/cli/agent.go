package cli

import (
	"github.com/spf13/cobra"

	"github.com/dockyard/dockyard/internal/agent"
)

func init() { extraCommands = append(extraCommands, newAgentCmd) }

// newAgentCmd is `dockyard agent`: the in-container agent, which the
// process runtime runs as a child process. Its flags are the agent's own
// (see agent.Main); the token comes from --token-file or
// DOCKYARD_AGENT_TOKEN, never from the command line.
func newAgentCmd(env *Env, _ *globals) *cobra.Command {
	return &cobra.Command{
		Use:                "agent [--addr HOST:PORT] [--cert FILE --key FILE] [--token-file FILE] [--root DIR] [--python PATH]",
		Short:              "Run the in-container agent (started by the container runtimes)",
		DisableFlagParsing: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			return agent.Main(cmd.Context(), args, env.Stderr)
		},
	}
}
