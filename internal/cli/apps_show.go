package cli

import (
	"github.com/spf13/cobra"

	"github.com/dockyard/dockyard/internal/wire"
)

func newAppsShowCmd(env *Env, g *globals) *cobra.Command {
	return &cobra.Command{
		Use: "show NAME", Short: "Show an app's read and write roles", Args: needArgs(1, "the app's NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := env.client(g)
			if err != nil {
				return err
			}
			a, err := c.App(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return env.print(g, a, appsTable([]wire.App{a}))
		},
	}
}
