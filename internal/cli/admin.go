package cli

import (
	"fmt"
	"io"
	"os"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/dockyard/dockyard/internal/client"
	"github.com/dockyard/dockyard/internal/maintenance"
)

func init() { extraCommands = append(extraCommands, newAdminCmd) }

func newAdminCmd(env *Env, g *globals) *cobra.Command {
	return group("admin", "Storage upkeep: garbage collection, backup and restore (see docs/operations.md)",
		newAdminGCCmd(env, g), newAdminBackupCmd(env, g), newAdminRestoreCmd(env, g))
}

func newAdminGCCmd(env *Env, g *globals) *cobra.Command {
	var grace string
	cmd := &cobra.Command{
		Use:   "gc [--grace DURATION]",
		Short: "Delete the blobs nothing references now (needs admin_storage)",
		Long: `The server deletes every blob that no model version, notebook version or lookup
references and that nobody wrote or checked within the grace period (storage.gc_grace,
default 1h): uploads, imports and fits in flight keep their blobs. --grace 0s collects
everything unreferenced; use it only while nothing is being uploaded.`,
		Args: cobra.NoArgs,
		RunE: env.withClient(g, func(cmd *cobra.Command, _ []string, c *client.Client) error {
			r, err := c.AdminGC(cmd.Context(), grace)
			if err != nil {
				return err
			}
			t := &table{header: []string{"blobs", "bytes", "live", "live_bytes", "recent", "deleted", "deleted_bytes", "missing", "took"}}
			t.add(strconv.Itoa(r.Blobs), strconv.FormatInt(r.Bytes, 10), strconv.Itoa(r.Live), strconv.FormatInt(r.LiveBytes, 10),
				strconv.Itoa(r.Recent), strconv.Itoa(r.Deleted), strconv.FormatInt(r.DeletedBytes, 10), strconv.Itoa(r.MissingRefs), r.Took)
			if err := env.print(g, r, t); err != nil {
				return err
			}
			if r.MissingRefs > 0 {
				fmt.Fprintf(env.Stderr, "warning: %d blobs that the database references are missing; restore them from a backup (see docs/operations.md)\n", r.MissingRefs)
			}
			return nil
		}),
	}
	cmd.Flags().StringVar(&grace, "grace", "", "keep unreferenced blobs used within this long (default: the server's storage.gc_grace)")
	return cmd
}

func newAdminBackupCmd(env *Env, g *globals) *cobra.Command {
	var file string
	cmd := &cobra.Command{
		Use:   "backup --file FILE",
		Short: "Write an online, consistent backup of the server to FILE (needs admin_storage)",
		Long: `The server sends a tar archive of a consistent snapshot of its database, every blob
that snapshot references, and its keys: the CA key, the key sealing secrets at rest
(secret.key, unless DOCKYARD_SECRET_KEY gives it) and the audit signing key. The file
is therefore as sensitive as the data directory: it is written owner-only (0600);
keep it so. Restore it with ` + "`dockyard admin restore --file FILE --data DIR`" + `.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if file == "" {
				return usagef("admin backup needs --file FILE")
			}
			c, err := env.client(g)
			if err != nil {
				return err
			}
			var h maintenance.Header
			var tr maintenance.Trailer
			err = writeFileAtomic(file, func(w io.Writer) error { return c.Backup(cmd.Context(), w) },
				func(f *os.File) error {
					var err error
					if h, tr, err = maintenance.Inspect(f); err != nil {
						return fmt.Errorf("the server sent %w", err)
					}
					return nil
				})
			if err != nil {
				return fmt.Errorf("backup: %w; no backup was written", err)
			}
			return env.say(g, map[string]any{"file": file, "header": h, "trailer": tr},
				"Wrote the backup %s: database %d bytes, %d blobs (%d bytes), %d key and state files.\n"+
					"It holds the server's keys: keep it owner-only and somewhere safe. Restore with `dockyard admin restore --file %s --data DIR`.",
				file, tr.DBBytes, tr.Blobs, tr.BlobBytes, tr.Files, file)
		},
	}
	cmd.Flags().StringVar(&file, "file", "", "the backup file to write")
	return cmd
}
