package cli

import "github.com/spf13/cobra"

func newAppsListCmd(env *Env, g *globals) *cobra.Command {
	return &cobra.Command{
		Use: "list", Short: "List the apps you may use", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := env.client(g)
			if err != nil {
				return err
			}
			as, err := c.Apps(cmd.Context())
			if err != nil {
				return err
			}
			return env.print(g, as, appsTable(as))
		},
	}
}
