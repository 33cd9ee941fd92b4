package cli

import (
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/dockyard/dockyard/internal/client"
	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/signing"
	"github.com/dockyard/dockyard/internal/wire"
)

func init() { imagesCmds = append(imagesCmds, newImagesSignCmd) }

// signedRepo is the repository a signature names for an entry: its run
// reference's (HOST/REPO) for a registry image, else its reference's
// without tag or digest.
func signedRepo(im wire.Image) string {
	ref := im.Ref
	if im.Source == "registry" {
		ref = im.RunRef
	}
	if i := strings.Index(ref, "@"); i >= 0 {
		ref = ref[:i]
	}
	if i := strings.LastIndex(ref, ":"); i > strings.LastIndex(ref, "/") {
		ref = ref[:i]
	}
	return ref
}

func newImagesSignCmd(env *Env, g *globals) *cobra.Command {
	var key string
	cmd := &cobra.Command{
		Use: "sign NAME --key key.pem",
		Short: "Sign an image's pinned digest with a private key here (a cosign-compatible signature, never sent) and store the signature with the entry " +
			"(needs configure_mltk_container)",
		Long: "The key (PEM: PKCS #8, EC or RSA; not encrypted) stays on this machine: only the signature is sent.\n" +
			"A start verifies it against the keys of `dockyard images keys` when the policy requires a signature.\n" +
			"Create a key pair with:\n" +
			"  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out key.pem\n" +
			"  openssl pkey -in key.pem -pubout -out pub.pem",
		Args: needArgs(1, "the image's NAME"),
		RunE: fetch(env, g, func(cmd *cobra.Command, args []string, c *client.Client) (wire.ImageSignature, error) {
			if key == "" {
				return wire.ImageSignature{}, usagef("%s needs --key key.pem (a PEM private key)", cmd.CommandPath())
			}
			b, err := os.ReadFile(key)
			if err != nil {
				return wire.ImageSignature{}, errdefs.Invalidf("--key: %w", err)
			}
			signer, err := signing.ParsePrivateKey(b)
			if err != nil {
				return wire.ImageSignature{}, err
			}
			im, err := c.Image(cmd.Context(), args[0])
			if err != nil {
				return wire.ImageSignature{}, err
			}
			payload, err := signing.NewPayload(signedRepo(im), im.Digest)
			if err != nil {
				return wire.ImageSignature{}, err
			}
			sig, err := signing.SignPayload(signer, payload)
			if err != nil {
				return wire.ImageSignature{}, err
			}
			return c.AddImageSignature(cmd.Context(), args[0], wire.ImageSignatureAdd{Payload: string(payload), Signature: sig})
		}, func(s wire.ImageSignature) *table {
			t := &table{header: []string{"image", "digest", "source", "added_by"}}
			t.add(s.Image, s.Digest, s.Source, s.AddedBy)
			return t
		}),
	}
	cmd.Flags().StringVar(&key, "key", "", "the private key (PEM) to sign with")
	return cmd
}
