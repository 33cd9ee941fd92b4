package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/dockyard/dockyard/internal/client"
	"github.com/dockyard/dockyard/internal/wire"
)

// images exceptions list|remove: the CVE exceptions `images allow` makes.

func init() { imagesCmds = append(imagesCmds, newImagesExceptionsCmd) }

func exceptionsTable(list []wire.ImageException) *table {
	t := &table{header: []string{"image", "cve", "until", "expired", "reason", "created_by", "created"}}
	for _, x := range list {
		t.add(x.Image, x.CVE, fmtTime(x.Until), fmt.Sprint(x.Expired), x.Reason, dash(x.CreatedBy), fmtTime(x.Created))
	}
	return t
}

func newImagesExceptionsCmd(env *Env, g *globals) *cobra.Command {
	list := &cobra.Command{
		Use:   "list NAME",
		Short: "List an image's CVE exceptions, expired ones too (needs list_mltk_container)",
		Args:  needArgs(1, "the image's NAME"),
		RunE: fetch(env, g, func(cmd *cobra.Command, args []string, c *client.Client) ([]wire.ImageException, error) {
			return c.ImageExceptions(cmd.Context(), args[0])
		}, exceptionsTable),
	}
	var cve string
	var yes bool
	remove := &cobra.Command{
		Use:   "remove NAME --cve ID",
		Short: "Remove a CVE exception before it expires: the vulnerability refuses starts again at once (needs configure_mltk_container)",
		Args:  needArgs(1, "the image's NAME"),
		RunE: env.withClient(g, func(cmd *cobra.Command, args []string, c *client.Client) error {
			if cve == "" {
				return usagef("%s needs --cve ID: `dockyard images exceptions list %s` shows the image's exceptions", cmd.CommandPath(), args[0])
			}
			if err := env.confirm(cmd, yes, fmt.Sprintf("Remove the exception for %s of image %s", cve, args[0])); err != nil {
				return err
			}
			x, err := c.RemoveImageException(cmd.Context(), args[0], cve)
			if err != nil {
				return err
			}
			return env.say(g, x, "Removed the exception for %s of image %s: the vulnerability refuses starts again.", x.CVE, x.Image)
		}),
	}
	remove.Flags().StringVar(&cve, "cve", "", "the vulnerability id the exception is for")
	yesFlag(remove, &yes)
	return group("exceptions", "The CVE exceptions of images (`images allow` adds them; they expire)", list, remove)
}
