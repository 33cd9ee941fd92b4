package cli

// admin restore works offline on a server's data directory, so it is one of
// the commands that import the server (internal/deptest's CLI rule).

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/dockyard/dockyard/internal/config"
	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/server"
)

func newAdminRestoreCmd(env *Env, g *globals) *cobra.Command {
	var file, data string
	var force bool
	cmd := &cobra.Command{
		Use:   "restore --file FILE [--data DIR] [--force]",
		Short: "Restore a backup into a data directory, offline (no server may be using it)",
		Long: `Unpacks FILE (from ` + "`dockyard admin backup`" + `) into a new directory beside DIR, verifies
every blob against its digest, checks the database's integrity and that every blob it
references is there, then puts the directory in place as DIR. DIR must be absent or
empty; with --force, its contents are moved aside to DIR.replaced-TIME (not deleted).
Stop the server first, and start it afterwards with --data DIR.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if file == "" {
				return usagef("admin restore needs --file FILE (written by `dockyard admin backup`)")
			}
			data = env.setting(data, "DOCKYARD_DATA", config.Default().Data)
			f, err := os.Open(file)
			if err != nil {
				return errdefs.Invalidf("--file: %w", err)
			}
			defer f.Close()
			res, err := server.Restore(cmd.Context(), config.Default(), f, data, force)
			if err != nil {
				return err
			}
			if g.structured() {
				return env.print(g, res, nil)
			}
			fmt.Fprintf(env.Stdout, "Restored the backup of %s (server %s) into %s: database %d bytes, %d blobs (%d bytes), %d key and state files.\n",
				res.Header.Created.Format("2006-01-02 15:04:05 MST"), res.Header.ServerID, data,
				res.Trailer.DBBytes, res.Trailer.Blobs, res.Trailer.BlobBytes, res.Trailer.Files)
			if res.Replaced != "" {
				fmt.Fprintf(env.Stdout, "What %s held before was moved to %s.\n", data, res.Replaced)
			}
			fmt.Fprintf(env.Stdout, "Start the server with: dockyard server --data %s\n", data)
			return nil
		},
	}
	cmd.Flags().StringVar(&file, "file", "", "the backup file to restore")
	cmd.Flags().StringVar(&data, "data", "", "the data directory to restore into (env DOCKYARD_DATA, default ./dockyard-data)")
	cmd.Flags().BoolVar(&force, "force", false, "restore even into a non-empty directory, moving its contents aside")
	return cmd
}
