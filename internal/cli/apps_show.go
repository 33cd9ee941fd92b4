package cli

import (
	"github.com/spf13/cobra"

	"github.com/dockyard/dockyard/internal/client"
	"github.com/dockyard/dockyard/internal/wire"
)

func newAppsShowCmd(env *Env, g *globals) *cobra.Command {
	return &cobra.Command{
		Use: "show NAME", Short: "Show an app's read and write roles", Args: needArgs(1, "the app's NAME"),
		RunE: fetch(env, g, func(cmd *cobra.Command, args []string, c *client.Client) (wire.App, error) {
			return c.App(cmd.Context(), args[0])
		}, one(appsTable)),
	}
}
