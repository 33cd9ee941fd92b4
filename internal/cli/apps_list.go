package cli

import (
	"github.com/spf13/cobra"

	"github.com/dockyard/dockyard/internal/client"
	"github.com/dockyard/dockyard/internal/wire"
)

func newAppsListCmd(env *Env, g *globals) *cobra.Command {
	return &cobra.Command{
		Use: "list", Short: "List the apps you may use", Args: cobra.NoArgs,
		RunE: fetch(env, g, func(cmd *cobra.Command, _ []string, c *client.Client) ([]wire.App, error) {
			return c.Apps(cmd.Context())
		}, appsTable),
	}
}
