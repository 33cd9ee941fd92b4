package cli

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/dockyard/dockyard/internal/client"
	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/wire"
)

func newModelsImportCmd(env *Env, g *globals) *cobra.Command {
	var from, algo string
	cmd := &cobra.Command{
		Use:   "import MODEL --from DIR|FILE.tar [--algo NAME]",
		Short: "Register a directory of files, or an archive from `models export`, as a new version",
		Long: "A directory's regular files become the version's files (links and special files are skipped).\n" +
			"An archive is checked file by file against its manifest; a changed, missing or extra file\n" +
			"fails the import and nothing is registered. --algo replaces an archive's algo.",
		Args: needArgs(1, "the MODEL ([app:]NAME) to add a version to"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if from == "" {
				return errdefs.Invalid("models import needs --from DIR (a directory of model files) or --from FILE.tar (from `dockyard models export`)")
			}
			info, err := os.Stat(from)
			if err != nil {
				return errdefs.Invalid(fmt.Sprintf("--from %s: %v; give a directory or a .tar file", from, err))
			}
			c, err := env.client(g)
			if err != nil {
				return err
			}
			var v wire.ModelVersion
			if info.IsDir() {
				var skipped []string
				v, skipped, err = c.ImportModelDir(cmd.Context(), args[0], from, algo)
				for _, s := range skipped {
					fmt.Fprintln(env.Stderr, "warning:", s)
				}
			} else {
				f, ferr := os.Open(from)
				if ferr != nil {
					return errdefs.Invalid(fmt.Sprintf("--from %s: %v", from, ferr))
				}
				defer f.Close()
				v, err = c.ImportModelTar(cmd.Context(), args[0], algo, f)
			}
			if err != nil {
				return err
			}
			if g.output == "json" {
				return env.print(g, v, nil)
			}
			fmt.Fprintf(env.Stdout, "Imported %s as version %d of model %s in app %s (%s, %s, %d bytes); current points at it.\n",
				from, v.Version, v.Model, v.App, v.Digest, plural(v.Files, "file"), v.Size)
			return nil
		},
	}
	cmd.Flags().StringVar(&from, "from", "", "a directory of model files, or a .tar archive from `models export`")
	cmd.Flags().StringVar(&algo, "algo", "", "the algorithm that reads these files (apply picks its runner by it)")
	return cmd
}

func newModelsExportCmd(env *Env, g *globals) *cobra.Command {
	var out string
	var owner string
	cmd := &cobra.Command{
		Use:   "export MODEL[@N|@ALIAS] -o FILE.tar",
		Short: "Write a version (default: current) as a tar archive with its manifest, to import elsewhere",
		Args:  needArgs(1, "the MODEL ([app:]NAME[@VERSION|@ALIAS])"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if out == "" {
				return errdefs.Invalid("models export needs -o FILE.tar (or -o - for standard output)")
			}
			c, err := env.client(g)
			if err != nil {
				return err
			}
			if out == "-" {
				_, err := c.ExportModel(cmd.Context(), args[0], env.Stdout, client.ModelOwner(owner))
				return err
			}
			// Write next to the target and rename, so that a failed download
			// never leaves a short file that looks like an export.
			tmp, err := os.CreateTemp(filepath.Dir(out), "."+filepath.Base(out)+".*")
			if err != nil {
				return fmt.Errorf("models export: %w", err)
			}
			defer os.Remove(tmp.Name())
			res, err := c.ExportModel(cmd.Context(), args[0], tmp, client.ModelOwner(owner))
			if err != nil {
				tmp.Close()
				return err
			}
			if err := tmp.Close(); err != nil {
				return fmt.Errorf("models export: %w", err)
			}
			if err := os.Rename(tmp.Name(), out); err != nil {
				return fmt.Errorf("models export: %w", err)
			}
			fmt.Fprintf(env.Stderr, "Wrote version %d of %s (%s, %d bytes) to %s; import it with `dockyard models import MODEL --from %s`.\n",
				res.Version, args[0], res.Digest, res.Bytes, out, out)
			return nil
		},
	}
	// -o here is the file, shadowing the global output format.
	cmd.Flags().StringVarP(&out, "output", "o", "", "the file to write (- for standard output)")
	ownerFlag(cmd, &owner)
	return cmd
}
