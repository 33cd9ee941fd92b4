package cli

import (
	"fmt"

	"github.com/spf13/cobra"
)

func newAppsDeleteCmd(env *Env, g *globals) *cobra.Command {
	return &cobra.Command{
		Use: "delete NAME", Short: "Delete an app in which no model, lookup or notebook lives", Args: needArgs(1, "the app's NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := env.client(g)
			if err != nil {
				return err
			}
			if err := c.DeleteApp(cmd.Context(), args[0]); err != nil {
				return err
			}
			fmt.Fprintf(env.Stdout, "Deleted app %s.\n", args[0])
			return nil
		},
	}
}
