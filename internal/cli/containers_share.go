package cli

import (
	"github.com/spf13/cobra"

	"github.com/dockyard/dockyard/internal/wire"
)

// newContainersShareCmd shares a container with roles, or unshares it.
func newContainersShareCmd(env *Env, g *globals) *cobra.Command {
	var roles string
	var clear bool
	cmd := &cobra.Command{
		Use:   "share NAME --roles ROLE1,ROLE2 | --clear",
		Short: "Let holders of these roles run code in your container (needs control_mltk_container; the owner or an administrator)",
		Long: "Share a container you own with roles: their holders (with control_mltk_container) may run fits, applies and\n" +
			"summaries in it and see it listed; only you and administrators may stop, remove, restart, read the logs of or\n" +
			"share it. --roles replaces the roles it is shared with; --roles '' or --clear unshares it.\n" +
			"Development containers (__dev__) are never shared.",
		Args: needArgs(1, "the container NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			set := cmd.Flags().Changed("roles")
			if set == clear {
				return usagef("containers share needs exactly one of --roles ROLE1,ROLE2 (the roles to share with) and --clear (share with none)")
			}
			c, err := env.client(g)
			if err != nil {
				return err
			}
			x, err := c.ShareContainer(cmd.Context(), args[0], splitList(roles))
			if err != nil {
				return err
			}
			return env.print(g, x, containersTable([]wire.Container{x}))
		},
	}
	cmd.Flags().StringVar(&roles, "roles", "", "comma-separated roles to share with ('' for none)")
	cmd.Flags().BoolVar(&clear, "clear", false, "share with no role (only the owner and administrators)")
	return cmd
}
