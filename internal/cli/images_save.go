package cli

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/dockyard/dockyard/internal/client"
)

func init() { imagesCmds = append(imagesCmds, newImagesSaveCmd) }

func newImagesSaveCmd(env *Env, g *globals) *cobra.Command {
	var file string
	cmd := &cobra.Command{
		Use: "save NAME --file F.tar",
		Short: "Write an image's pinned content as an OCI image-layout archive with its signatures and newest scan report, " +
			"to carry to an air-gapped site (needs configure_mltk_container)",
		Args: needArgs(1, "the image's NAME"),
		RunE: env.withClient(g, func(cmd *cobra.Command, args []string, c *client.Client) error {
			if file == "" {
				return usagef("%s needs --file F.tar (or --file - for standard output); -o sets the output format", cmd.CommandPath())
			}
			if file == "-" {
				_, err := c.SaveImage(cmd.Context(), args[0], env.Stdout)
				return err
			}
			var n int64
			if err := writeFileAtomic(file, func(w io.Writer) error {
				var err error
				n, err = c.SaveImage(cmd.Context(), args[0], w)
				return err
			}, nil); err != nil {
				return fmt.Errorf("images save: %w", err)
			}
			fmt.Fprintf(env.Stderr, "Wrote image %s (%d bytes) to %s; load it with `dockyard images load --file %s [--push HOST/REPO]`.\n", args[0], n, file, file)
			if g.structured() {
				return env.print(g, map[string]any{"file": file, "image": args[0], "bytes": n}, nil)
			}
			return nil
		}),
	}
	fileFlag(cmd, &file, "the archive to write (- for standard output)")
	return cmd
}
