package cli

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"

	"github.com/spf13/cobra"

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
	cmd := &cobra.Command{Use: "lookups", Short: "Upload, list, share and delete CSV lookup tables"}
	cmd.AddCommand(newLookupsUploadCmd(env, g), newLookupsListCmd(env, g), newLookupsShowCmd(env, g),
		newLookupsDeleteCmd(env, g), newLookupsShareCmd(env, g))
	return cmd
}

func newLookupsUploadCmd(env *Env, g *globals) *cobra.Command {
	var name string
	c := &cobra.Command{
		Use:   "upload FILE.csv [--name NAME.csv] [--app APP]",
		Short: "Upload a CSV file as a lookup (private to you in the app until shared)",
		Args:  needArgs(1, "the CSV FILE to upload"),
		RunE: func(cmd *cobra.Command, args []string) error {
			file := args[0]
			n := name
			if n == "" {
				n = filepath.Base(file)
			}
			if err := lookups.ValidateName(n); err != nil {
				return fmt.Errorf("%w (pass --name NAME.csv)", err)
			}
			f, err := os.Open(file)
			if err != nil {
				return errdefs.Invalid(fmt.Sprintf("lookup file: %v", err))
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
			if g.output == "json" {
				return env.print(g, l, nil)
			}
			fmt.Fprintf(env.Stdout, "Uploaded lookup %s (%d bytes, %s) in app %s, owner %s, sharing %s.\n", l.Name, l.Size, l.Digest, l.App, l.Owner, l.Sharing)
			return nil
		},
	}
	c.Flags().StringVar(&name, "name", "", "lookup name, ending in .csv (default: the file's name)")
	return c
}

func newLookupsListCmd(env *Env, g *globals) *cobra.Command {
	return &cobra.Command{
		Use: "list", Short: "List the lookups you may read", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := env.client(g)
			if err != nil {
				return err
			}
			ls, err := c.Lookups(cmd.Context())
			if err != nil {
				return err
			}
			if ls == nil {
				ls = []wire.Lookup{}
			}
			return env.print(g, ls, lookupsTable(ls))
		},
	}
}

func newLookupsShowCmd(env *Env, g *globals) *cobra.Command {
	var content bool
	c := &cobra.Command{
		Use:   "show NAME [--content]",
		Short: "Show a lookup's owner, sharing and digest, or with --content its CSV",
		Args:  needArgs(1, "the lookup NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := env.client(g)
			if err != nil {
				return err
			}
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
		},
	}
	c.Flags().BoolVar(&content, "content", false, "print the lookup's CSV instead of its metadata")
	return c
}

func newLookupsDeleteCmd(env *Env, g *globals) *cobra.Command {
	return &cobra.Command{
		Use: "delete NAME", Short: "Delete a lookup (its owner or an administrator)",
		Args: needArgs(1, "the lookup NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := env.client(g)
			if err != nil {
				return err
			}
			if err := c.DeleteLookup(cmd.Context(), args[0]); err != nil {
				return err
			}
			fmt.Fprintf(env.Stdout, "Deleted lookup %s.\n", args[0])
			return nil
		},
	}
}

func newLookupsShareCmd(env *Env, g *globals) *cobra.Command {
	var sharing, read, write string
	c := &cobra.Command{
		Use:   "share NAME --sharing user|app|global [--read R1,R2] [--write R1]",
		Short: "Change who may see, read and change a lookup",
		Args:  needArgs(1, "the lookup NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if sharing == "" {
				return errdefs.Invalid("lookups share needs --sharing user, app or global")
			}
			c, err := env.client(g)
			if err != nil {
				return err
			}
			l, err := c.ShareLookup(cmd.Context(), args[0], wire.LookupShare{Sharing: sharing,
				Read: nonNilList(splitList(read)), Write: nonNilList(splitList(write))})
			if err != nil {
				return err
			}
			if g.output == "json" {
				return env.print(g, l, nil)
			}
			fmt.Fprintf(env.Stdout, "Lookup %s in app %s: sharing %s, read %s, write %s.\n", l.Name, l.App, l.Sharing, joinList(l.Read), joinList(l.Write))
			return nil
		},
	}
	c.Flags().StringVar(&sharing, "sharing", "", "user (private), app or global")
	c.Flags().StringVar(&read, "read", "", "comma-separated roles that may read (empty: everyone it is shared with; * for every role)")
	c.Flags().StringVar(&write, "write", "", "comma-separated roles that may change it (empty: only the owner)")
	return c
}

func nonNilList(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
