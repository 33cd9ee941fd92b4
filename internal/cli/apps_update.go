package cli

import (
	"github.com/spf13/cobra"

	"github.com/dockyard/dockyard/internal/wire"
)

func newAppsUpdateCmd(env *Env, g *globals) *cobra.Command {
	var read, write string
	c := &cobra.Command{
		Use:   "update NAME [--read ROLES] [--write ROLES]",
		Short: "Change who may use an app (--read) or share into it (--write)",
		Args:  needArgs(1, "the app's NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			req := wire.AppRequest{Read: roleListFlag(cmd, "read", read), Write: roleListFlag(cmd, "write", write)}
			if req.Read == nil && req.Write == nil {
				return usagef("apps update changes nothing: pass --read ROLES, --write ROLES or both")
			}
			c, err := env.client(g)
			if err != nil {
				return err
			}
			a, err := c.UpdateApp(cmd.Context(), args[0], req)
			if err != nil {
				return err
			}
			return env.print(g, a, appsTable([]wire.App{a}))
		},
	}
	c.Flags().StringVar(&read, "read", "", "comma-separated roles that may use the app (\"*\": every role)")
	c.Flags().StringVar(&write, "write", "", "comma-separated roles that may share objects into the app")
	return c
}
