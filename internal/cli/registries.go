package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/dockyard/dockyard/internal/client"
	"github.com/dockyard/dockyard/internal/wire"
)

func init() { extraCommands = append(extraCommands, newRegistriesCmd) }

func registriesTable(list []wire.Registry) *table {
	t := &table{header: []string{"host", "ca", "username", "updated_by", "updated"}}
	for _, r := range list {
		t.add(r.Host, fmt.Sprint(r.CA), dash(r.Username), dash(r.UpdatedBy), fmtTime(r.Updated))
	}
	return t
}

func newRegistriesCmd(env *Env, g *globals) *cobra.Command {
	list := &cobra.Command{
		Use: "list", Short: "List the private registries (never a password; needs configure_mltk_container)", Args: cobra.NoArgs,
		RunE: fetch(env, g, func(cmd *cobra.Command, _ []string, c *client.Client) ([]wire.Registry, error) {
			return c.Registries(cmd.Context())
		}, registriesTable),
	}
	var caFile string
	add := &cobra.Command{
		Use:   "add HOST [--ca-file CA.pem]",
		Short: "Add a private registry, verified by its CA (--ca-file) or the system's roots (needs configure_mltk_container)",
		Long: "Add a private registry, verified by its CA (--ca-file) or the system's roots (needs configure_mltk_container).\n" +
			"Here --ca-file is the registry's CA; the server's CA comes from DOCKYARD_CA_FILE or your saved login.",
		Args: needArgs(1, "the registry's HOST[:PORT]"),
		RunE: fetch(env, g, func(cmd *cobra.Command, args []string, c *client.Client) (wire.Registry, error) {
			pem, err := caFlagPEM(caFile)
			if err != nil {
				return wire.Registry{}, err
			}
			return c.AddRegistry(cmd.Context(), wire.RegistryAdd{Host: args[0], CAPEM: pem})
		}, one(registriesTable)),
	}
	add.Flags().StringVar(&caFile, "ca-file", "", "PEM file of the CA that verifies the registry's certificate (default: the system's roots)")
	var user string
	var fromStdin bool
	login := &cobra.Command{
		Use:   "login HOST --user USER [--password-stdin]",
		Short: "Store credentials for a registry, the password sealed at rest and never shown (needs configure_mltk_container)",
		Args:  needArgs(1, "the registry's HOST[:PORT]"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if user == "" {
				return usagef("%s needs --user USER", cmd.CommandPath())
			}
			pw, err := env.password(cmd, fromStdin, "Password for "+user+"@"+args[0], false)
			if err != nil {
				return err
			}
			c, err := env.client(g)
			if err != nil {
				return err
			}
			r, err := c.LoginRegistry(cmd.Context(), args[0], wire.RegistryLogin{Username: user, Password: pw})
			if err != nil {
				return err
			}
			return env.print(g, r, registriesTable([]wire.Registry{r}))
		},
	}
	login.Flags().StringVar(&user, "user", "", "the registry user")
	login.Flags().BoolVar(&fromStdin, "password-stdin", false, "read the password from standard input")
	remove := env.deleteCmd(g, deleteSpec{
		use: "remove HOST", short: "Forget a registry and its credentials (needs configure_mltk_container)",
		argWhat: "the registry's HOST[:PORT]", noun: "registry", more: " and its credentials", remove: true,
		del: func(cmd *cobra.Command, c *client.Client, host string) error {
			return c.RemoveRegistry(cmd.Context(), host)
		},
	})
	return group("registries", "Private registries: their CAs and credentials, for the image catalogue and pulls",
		add, list, login, remove)
}
