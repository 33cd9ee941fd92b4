package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/dockyard/dockyard/internal/client"
	"github.com/dockyard/dockyard/internal/wire"
)

func newModelsKeysCmd(env *Env, g *globals) *cobra.Command {
	show := &cobra.Command{
		Use:   "show",
		Short: "Print this server's public key, which signs its model exports (give it to the sites that import them)",
		Args:  cobra.NoArgs,
		RunE: env.withClient(g, func(cmd *cobra.Command, _ []string, c *client.Client) error {
			k, err := c.ServerModelKey(cmd.Context())
			if err != nil {
				return err
			}
			if g.structured() {
				return env.print(g, k, nil)
			}
			fmt.Fprintf(env.Stderr, "This server signs its model exports with key %s; another site trusts it with `dockyard models keys trust NAME --file pub.pem`.\n", k.Fingerprint)
			_, err = fmt.Fprint(env.Stdout, k.PEM)
			return err
		}),
	}
	var file string
	trust := &cobra.Command{
		Use:   "trust NAME --file pub.pem",
		Short: "Trust another site's public key (from its `models keys show`) for signed model archives (needs admin_all_objects)",
		Args:  needArgs(1, "the site's NAME (e.g. site-b)"),
		RunE: fetch(env, g, func(cmd *cobra.Command, args []string, c *client.Client) (wire.SigningKey, error) {
			pem, err := readKeyFile(cmd, file)
			if err != nil {
				return wire.SigningKey{}, err
			}
			return c.TrustModelKey(cmd.Context(), args[0], pem)
		}, one(keysTable)),
	}
	fileFlag(trust, &file, "the site's public key (PEM)")
	list := &cobra.Command{
		Use: "list", Short: "List the other sites' keys whose signed model archives are trusted", Args: cobra.NoArgs,
		RunE: fetch(env, g, func(cmd *cobra.Command, _ []string, c *client.Client) ([]wire.SigningKey, error) {
			return c.ModelKeys(cmd.Context())
		}, keysTable),
	}
	remove := env.deleteCmd(g, deleteSpec{
		use: "remove NAME", short: "Stop trusting another site's model key (needs admin_all_objects)",
		argWhat: "the key's NAME", noun: "model key", remove: true,
		del: func(cmd *cobra.Command, c *client.Client, name string) error {
			return c.RemoveModelKey(cmd.Context(), name)
		},
	})
	return group("keys", "Keys of signed model archives: this server's (show) and the other sites' it trusts", show, trust, list, remove)
}
