package cli

import (
	"github.com/spf13/cobra"

	"github.com/dockyard/dockyard/internal/client"
	"github.com/dockyard/dockyard/internal/wire"
)

func newAppsCreateCmd(env *Env, g *globals) *cobra.Command {
	var read, write string
	c := &cobra.Command{
		Use:   "create NAME [--read ROLES] [--write ROLES]",
		Short: "Create an app: --read roles use it and see what is shared in it, --write roles share into it",
		Args:  needArgs(1, "the new app's NAME"),
		RunE: fetch(env, g, func(cmd *cobra.Command, args []string, c *client.Client) (wire.App, error) {
			return c.CreateApp(cmd.Context(), wire.AppRequest{Name: args[0],
				Read: roleListFlag(cmd, "read", read), Write: roleListFlag(cmd, "write", write)})
		}, one(appsTable)),
	}
	c.Flags().StringVar(&read, "read", "*", "comma-separated roles that may use the app (\"*\": every role)")
	c.Flags().StringVar(&write, "write", "admin,power", "comma-separated roles that may share objects into the app")
	return c
}
