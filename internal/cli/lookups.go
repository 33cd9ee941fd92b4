package cli

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/dockyard/dockyard/internal/client"
	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/lookups"
	"github.com/dockyard/dockyard/internal/wire"
)

func init() { extraCommands = append(extraCommands, newLookupsCmd) }

func lookupsTable(ls []wire.Lookup) *table {
	t := &table{header: []string{"name", "app", "owner", "sharing", "read", "write", "size", "updated"}}
	for _, l := range ls {
		t.add(l.Name, l.App, l.Owner, l.Sharing, joinList(l.Read), joinList(l.Write), strconv.FormatInt(l.Size, 10), fmtTime(l.Updated))
	}
	return t
}

func newLookupsCmd(env *Env, g *globals) *cobra.Command {
	return group("lookups", "Upload, list, share and delete CSV lookup tables",
		newLookupsUploadCmd(env, g), newLookupsListCmd(env, g), newLookupsShowCmd(env, g),
		newLookupsDeleteCmd(env, g), newLookupsShareCmd(env, g))
}

func newLookupsUploadCmd(env *Env, g *globals) *cobra.Command {
	var name, file string
	cmd := &cobra.Command{
		Use:   "upload --file FILE.csv [--name NAME.csv] [--app APP]",
		Short: "Upload a CSV file as a lookup (private to you in the app until shared)",
		Long:  "Upload a CSV file as a lookup (private to you in the app until shared). The file may also be given as the one argument.",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			file, err := inputFile(cmd, file, args, "FILE.csv")
			if err != nil {
				return err
			}
			n := name
			if n == "" {
				n = filepath.Base(file)
			}
			if err := lookups.ValidateName(n); err != nil {
				return fmt.Errorf("%w (pass --name NAME.csv)", err)
			}
			f, err := os.Open(file)
			if err != nil {
				return errdefs.Invalidf("lookup file: %w", err)
			}
			defer f.Close()
			c, err := env.client(g)
			if err != nil {
				return err
			}
			l, err := c.UploadLookup(cmd.Context(), n, f)
			if err != nil {
				return err
			}
			return env.say(g, l, "Uploaded lookup %s (%d bytes, %s) in app %s, owner %s, sharing %s.", l.Name, l.Size, l.Digest, l.App, l.Owner, l.Sharing)
		},
	}
	fileFlag(cmd, &file, "the CSV file to upload")
	cmd.Flags().StringVar(&name, "name", "", "lookup name, ending in .csv (default: the file's name)")
	return cmd
}

func newLookupsListCmd(env *Env, g *globals) *cobra.Command {
	return &cobra.Command{
		Use: "list", Short: "List the lookups you may read", Args: cobra.NoArgs,
		RunE: fetch(env, g, func(cmd *cobra.Command, _ []string, c *client.Client) ([]wire.Lookup, error) {
			ls, err := c.Lookups(cmd.Context())
			return nonNil(ls), err
		}, lookupsTable),
	}
}

func newLookupsShowCmd(env *Env, g *globals) *cobra.Command {
	var content bool
	c := &cobra.Command{
		Use:   "show NAME [--content]",
		Short: "Show a lookup's owner, sharing and digest, or with --content its CSV",
		Args:  needArgs(1, "the lookup NAME"),
		RunE: env.withClient(g, func(cmd *cobra.Command, args []string, c *client.Client) error {
			if content {
				rc, err := c.LookupContent(cmd.Context(), args[0])
				if err != nil {
					return err
				}
				defer rc.Close()
				_, err = io.Copy(env.Stdout, rc)
				return err
			}
			l, err := c.Lookup(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			t := &table{header: []string{"field", "value"}}
			t.add("name", l.Name)
			t.add("app", l.App)
			t.add("owner", l.Owner)
			t.add("sharing", l.Sharing)
			t.add("read", joinList(l.Read))
			t.add("write", joinList(l.Write))
			t.add("digest", l.Digest)
			t.add("size", strconv.FormatInt(l.Size, 10))
			t.add("created", fmtTime(l.Created))
			t.add("updated", fmtTime(l.Updated))
			t.add("perms", fmt.Sprintf("read=%t write=%t share=%t", l.Perms.Read, l.Perms.Write, l.Perms.Share))
			return env.print(g, l, t)
		}),
	}
	c.Flags().BoolVar(&content, "content", false, "print the lookup's CSV instead of its metadata")
	return c
}

func newLookupsDeleteCmd(env *Env, g *globals) *cobra.Command {
	return env.deleteCmd(g, deleteSpec{
		use: "delete NAME", short: "Delete a lookup (its owner or an administrator)", argWhat: "the lookup NAME", noun: "lookup",
		del: func(cmd *cobra.Command, c *client.Client, name string) error {
			return c.DeleteLookup(cmd.Context(), name)
		},
	})
}

func newLookupsShareCmd(env *Env, g *globals) *cobra.Command {
	return shareCmd(env, g, "lookup", "Change who may see, read and change a lookup",
		"comma-separated roles that may change it (empty: only the owner)",
		func(cmd *cobra.Command, c *client.Client, name, sharing string, read, write []string) (wire.Lookup, error) {
			return c.ShareLookup(cmd.Context(), name, wire.LookupShare{Sharing: sharing, Read: read, Write: write})
		},
		func(l wire.Lookup) shared { return shared{l.Name, l.App, l.Sharing, l.Read, l.Write} })
}
