package cli

import (
	"os"

	"github.com/spf13/cobra"

	"github.com/dockyard/dockyard/internal/client"
	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/wire"
)

func init() { imagesCmds = append(imagesCmds, newImagesKeysCmd) }

func keysTable(ks []wire.SigningKey) *table {
	t := &table{header: []string{"name", "fingerprint", "created_by", "created"}}
	for _, k := range ks {
		t.add(k.Name, k.Fingerprint, dash(k.CreatedBy), fmtTime(k.Created))
	}
	return t
}

// readKeyFile reads --file, a PEM key.
func readKeyFile(cmd *cobra.Command, file string) (string, error) {
	if file == "" {
		return "", usagef("%s needs --file pub.pem (a PEM public key)", cmd.CommandPath())
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return "", errdefs.Invalidf("--file: %w", err)
	}
	return string(b), nil
}

func newImagesKeysCmd(env *Env, g *globals) *cobra.Command {
	var file string
	add := &cobra.Command{
		Use:   "add NAME --file pub.pem",
		Short: "Trust a public key (PEM: ECDSA, Ed25519 or RSA; cosign.pub) to verify image signatures (needs configure_mltk_container)",
		Args:  needArgs(1, "the key's NAME"),
		RunE: fetch(env, g, func(cmd *cobra.Command, args []string, c *client.Client) (wire.SigningKey, error) {
			pem, err := readKeyFile(cmd, file)
			if err != nil {
				return wire.SigningKey{}, err
			}
			return c.AddImageKey(cmd.Context(), args[0], pem)
		}, one(keysTable)),
	}
	fileFlag(add, &file, "the public key (PEM)")
	list := &cobra.Command{
		Use: "list", Short: "List the public keys image signatures are verified with (needs list_mltk_container)", Args: cobra.NoArgs,
		RunE: fetch(env, g, func(cmd *cobra.Command, _ []string, c *client.Client) ([]wire.SigningKey, error) {
			return c.ImageKeys(cmd.Context())
		}, keysTable),
	}
	remove := env.deleteCmd(g, deleteSpec{
		use: "remove NAME", short: "Stop trusting an image signing key (needs configure_mltk_container)",
		argWhat: "the key's NAME", noun: "image key", remove: true,
		del: func(cmd *cobra.Command, c *client.Client, name string) error {
			return c.RemoveImageKey(cmd.Context(), name)
		},
	})
	return group("keys", "The public keys image signatures are verified with (images policy set --require-signature)", add, list, remove)
}
