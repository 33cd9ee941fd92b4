package cli

import (
	"github.com/spf13/cobra"

	"github.com/dockyard/dockyard/internal/client"
)

func newAppsDeleteCmd(env *Env, g *globals) *cobra.Command {
	return env.deleteCmd(g, deleteSpec{
		use: "delete NAME", short: "Delete an app in which no model, lookup or notebook lives", argWhat: "the app's NAME", noun: "app",
		del: func(cmd *cobra.Command, c *client.Client, name string) error { return c.DeleteApp(cmd.Context(), name) },
	})
}
