package cli

import (
	"os"

	"github.com/spf13/cobra"

	"github.com/dockyard/dockyard/internal/client"
	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/wire"
)

func init() { imagesCmds = append(imagesCmds, newImagesLoadCmd) }

func newImagesLoadCmd(env *Env, g *globals) *cobra.Command {
	var file, name, push string
	cmd := &cobra.Command{
		Use: "load --file F.tar [--push HOST/REPO] [--name NAME]",
		Short: "Load an archive from `images save`: every digest is verified, the image pushed to a registry (--push) or loaded into the Docker Engine, " +
			"and the entry added with its signatures and scan report (needs configure_mltk_container)",
		Long: "A changed or damaged archive is refused and nothing is pushed, loaded or added.",
		Args: cobra.NoArgs,
		RunE: fetch(env, g, func(cmd *cobra.Command, _ []string, c *client.Client) (wire.Image, error) {
			if file == "" {
				return wire.Image{}, usagef("%s needs --file F.tar (from `dockyard images save`)", cmd.CommandPath())
			}
			f, err := os.Open(file)
			if err != nil {
				return wire.Image{}, errdefs.Invalidf("--file: %w", err)
			}
			defer f.Close()
			return c.LoadImage(cmd.Context(), f, name, push)
		}, one(imagesTable)),
	}
	fileFlag(cmd, &file, "the archive `dockyard images save` wrote")
	cmd.Flags().StringVar(&push, "push", "", "push the image to this registry repository HOST[:PORT]/REPO (its credentials from `registries login`) instead of the Docker Engine")
	cmd.Flags().StringVar(&name, "name", "", "the entry's name (default: the name it had where it was saved)")
	return cmd
}
