package cli

import (
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/dockyard/dockyard/internal/client"
	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/wire"
)

func newModelsImportCmd(env *Env, g *globals) *cobra.Command {
	var from, algo string
	var requireSig bool
	cmd := &cobra.Command{
		Use:   "import MODEL --file DIR|FILE.tar [--algo NAME] [--require-signature]",
		Short: "Register a directory of files, or an archive from `models export`, as a new version",
		Long: "A directory's regular files become the version's files (links and special files are skipped).\n" +
			"An archive is checked file by file against its manifest; a changed, missing or extra file\n" +
			"fails the import and nothing is registered. --algo replaces an archive's algo.\n" +
			"A signed archive (every export of a server) is verified: one changed after it was signed is refused,\n" +
			"and the version's lineage records the trusted key that signed it (signed_by). --require-signature\n" +
			"refuses an archive not signed by this server or a site trusted with `dockyard models keys trust`.",
		Args: needArgs(1, "the MODEL ([app:]NAME) to add a version to"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if cmd.Flags().Changed("from") {
				fmt.Fprintln(env.Stderr, "warning: --from is now --file: pass --file", from)
			}
			if from == "" {
				return usagef("models import needs --file DIR (a directory of model files) or --file FILE.tar (from `dockyard models export`)")
			}
			info, err := os.Stat(from)
			if err != nil {
				return errdefs.Invalidf("--file %s: %w; give a directory or a .tar file", from, err)
			}
			c, err := env.client(g)
			if err != nil {
				return err
			}
			var v wire.ModelVersion
			if requireSig && info.IsDir() {
				return usagef("--require-signature takes a signed archive from `dockyard models export`, not a directory")
			}
			if info.IsDir() {
				var skipped []string
				v, skipped, err = c.ImportModelDir(cmd.Context(), args[0], from, algo)
				for _, s := range skipped {
					fmt.Fprintln(env.Stderr, "warning:", s)
				}
			} else {
				f, ferr := os.Open(from)
				if ferr != nil {
					return errdefs.Invalidf("--file %s: %w", from, ferr)
				}
				defer f.Close()
				if requireSig {
					v, err = c.ImportSignedModelTar(cmd.Context(), args[0], algo, f)
				} else {
					v, err = c.ImportModelTar(cmd.Context(), args[0], algo, f)
				}
			}
			if err != nil {
				return err
			}
			return env.say(g, v, "Imported %s as version %d of model %s in app %s (%s, %s, %d bytes); current points at it.",
				from, v.Version, v.Model, v.App, v.Digest, plural(v.Files, "file"), v.Size)
		},
	}
	cmd.Flags().StringVar(&from, "file", "", "a directory of model files, or a .tar archive from `models export`")
	// --from was the flag's name before every file went through --file.
	cmd.Flags().StringVar(&from, "from", "", "the same as --file")
	cmd.Flags().MarkHidden("from")
	cmd.Flags().StringVar(&algo, "algo", "", "the algorithm that reads these files (apply picks its runner by it)")
	cmd.Flags().BoolVar(&requireSig, "require-signature", false, "refuse an archive not signed by this server or a trusted site (models keys)")
	return cmd
}

func newModelsExportCmd(env *Env, g *globals) *cobra.Command {
	var file, owner string
	cmd := &cobra.Command{
		Use:   "export MODEL[@N|@ALIAS] --file FILE.tar",
		Short: "Write a version (default: current) as a tar archive with its manifest, to import elsewhere",
		Args:  needArgs(1, "the MODEL ([app:]NAME[@VERSION|@ALIAS])"),
		RunE: env.withClient(g, func(cmd *cobra.Command, args []string, c *client.Client) error {
			if file == "" {
				return usagef("models export needs --file FILE.tar (or --file - for standard output); -o sets the output format")
			}
			if file == "-" {
				_, err := c.ExportModel(cmd.Context(), args[0], env.Stdout, client.ModelOwner(owner))
				return err
			}
			var res client.ModelExport
			err := writeFileAtomic(file, func(w io.Writer) error {
				var err error
				res, err = c.ExportModel(cmd.Context(), args[0], w, client.ModelOwner(owner))
				return err
			}, nil)
			if err != nil {
				return fmt.Errorf("models export: %w", err)
			}
			fmt.Fprintf(env.Stderr, "Wrote version %d of %s (%s, %d bytes) to %s; import it with `dockyard models import MODEL --file %s`.\n",
				res.Version, args[0], res.Digest, res.Bytes, file, file)
			if g.structured() {
				return env.print(g, map[string]any{"file": file, "version": res.Version, "digest": res.Digest, "bytes": res.Bytes}, nil)
			}
			return nil
		}),
	}
	cmd.Flags().StringVar(&file, "file", "", "the archive to write (- for standard output)")
	ownerFlag(cmd, &owner)
	return cmd
}
