package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/dockyard/dockyard/internal/config"
	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/maintenance"
	"github.com/dockyard/dockyard/internal/server"
)

func init() { extraCommands = append(extraCommands, newAdminCmd) }

func newAdminCmd(env *Env, g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "admin", Short: "Storage upkeep: garbage collection, backup and restore (see docs/operations.md)"}
	cmd.AddCommand(newAdminGCCmd(env, g), newAdminBackupCmd(env, g), newAdminRestoreCmd(env, g))
	return cmd
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
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := env.client(g)
			if err != nil {
				return err
			}
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
		},
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
				return errdefs.Invalid("admin backup needs --file FILE")
			}
			c, err := env.client(g)
			if err != nil {
				return err
			}
			// Write next to the target and rename once complete, so that a
			// failed download never leaves a file that looks like a backup.
			tmp, err := os.CreateTemp(filepath.Dir(file), "."+filepath.Base(file)+".*")
			if err != nil {
				return fmt.Errorf("backup: %w", err)
			}
			defer os.Remove(tmp.Name())
			if err := tmp.Chmod(0o600); err != nil {
				tmp.Close()
				return fmt.Errorf("backup: %w", err)
			}
			if err := c.Backup(cmd.Context(), tmp); err != nil {
				tmp.Close()
				return fmt.Errorf("backup: %w; no backup was written", err)
			}
			if err := tmp.Sync(); err != nil {
				tmp.Close()
				return fmt.Errorf("backup: %w", err)
			}
			if _, err := tmp.Seek(0, 0); err != nil {
				tmp.Close()
				return fmt.Errorf("backup: %w", err)
			}
			h, tr, err := maintenance.Inspect(tmp)
			tmp.Close()
			if err != nil {
				return fmt.Errorf("backup: the server sent %w; no backup was written", err)
			}
			if err := os.Rename(tmp.Name(), file); err != nil {
				return fmt.Errorf("backup: %w", err)
			}
			if g.output == "json" {
				return env.print(g, map[string]any{"file": file, "header": h, "trailer": tr}, nil)
			}
			fmt.Fprintf(env.Stdout, "Wrote the backup %s: database %d bytes, %d blobs (%d bytes), %d key and state files.\n"+
				"It holds the server's keys: keep it owner-only and somewhere safe. Restore with `dockyard admin restore --file %s --data DIR`.\n",
				file, tr.DBBytes, tr.Blobs, tr.BlobBytes, tr.Files, file)
			return nil
		},
	}
	cmd.Flags().StringVar(&file, "file", "", "the backup file to write")
	return cmd
}

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
				return errdefs.Invalid("admin restore needs --file FILE (written by `dockyard admin backup`)")
			}
			data = env.setting(data, "DOCKYARD_DATA", config.Default().Data)
			f, err := os.Open(file)
			if err != nil {
				return errdefs.Invalid(fmt.Sprintf("--file: %v", err))
			}
			defer f.Close()
			res, err := server.Restore(cmd.Context(), config.Default(), f, data, force)
			if err != nil {
				return err
			}
			if g.output == "json" {
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
