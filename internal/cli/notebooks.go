package cli

import (
	"fmt"
	"os"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/notebooks"
	"github.com/dockyard/dockyard/internal/wire"
)

func init() { extraCommands = append(extraCommands, newNotebooksCmd) }

func notebooksTable(ns []wire.Notebook) *table {
	t := &table{header: []string{"name", "app", "owner", "sharing", "version", "format", "size", "author", "updated"}}
	for _, n := range ns {
		t.add(n.Name, n.App, n.Owner, n.Sharing, strconv.Itoa(n.Version), n.Format, strconv.FormatInt(n.Size, 10), n.Author, fmtTime(n.Updated))
	}
	return t
}

func newNotebooksCmd(env *Env, g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "notebooks", Short: "Push, share and delete notebooks and see their history"}
	var name, sharing string
	push := &cobra.Command{
		Use:   "push FILE.ipynb|FILE.py [--name NAME] [--app APP]",
		Short: "Store a notebook as a new version (when it changed); private to you in the app unless --sharing says otherwise",
		Args:  needArgs(1, "the notebook FILE (.ipynb or .py)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			file := args[0]
			format, err := notebooks.FormatOf(file)
			if err != nil {
				return err
			}
			content, err := os.ReadFile(file)
			if err != nil {
				return errdefs.Invalid(fmt.Sprintf("notebook %s: %v", file, err))
			}
			// Check here too, so the message names the file.
			if err := notebooks.Validate(file, format, content); err != nil {
				return err
			}
			n := name
			if n == "" {
				n = notebooks.NameFromFile(file)
			}
			if err := notebooks.ValidateName(n); err != nil {
				return fmt.Errorf("%w (pass --name NAME)", err)
			}
			c, err := env.client(g)
			if err != nil {
				return err
			}
			res, err := c.PushNotebook(cmd.Context(), n, format, sharing, content)
			if err != nil {
				return err
			}
			if g.output == "json" {
				return env.print(g, res, nil)
			}
			if res.Changed {
				fmt.Fprintf(env.Stdout, "Pushed notebook %s version %d (%s, %d bytes) in app %s.\n", res.Name, res.Version, res.Digest, res.Size, res.App)
			} else {
				fmt.Fprintf(env.Stdout, "Notebook %s is unchanged (version %d).\n", res.Name, res.Version)
			}
			return nil
		},
	}
	push.Flags().StringVar(&name, "name", "", "notebook name, the algo= of a fit (default: the file name without extension)")
	push.Flags().StringVar(&sharing, "sharing", "", "sharing of a new notebook: user (default), app or global (app and global need publish_notebooks)")
	list := &cobra.Command{
		Use: "list", Short: "List the notebooks you may read", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := env.client(g)
			if err != nil {
				return err
			}
			ns, err := c.Notebooks(cmd.Context())
			if err != nil {
				return err
			}
			return env.print(g, ns, notebooksTable(ns))
		},
	}
	history := &cobra.Command{
		Use: "history NAME", Short: "List a notebook's versions", Args: needArgs(1, "the notebook NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := env.client(g)
			if err != nil {
				return err
			}
			vs, err := c.NotebookHistory(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			t := &table{header: []string{"version", "digest", "size", "author", "source", "created"}}
			for _, v := range vs {
				src := v.Source
				if src == "" {
					src = "push"
				}
				t.add(strconv.Itoa(v.Version), v.Digest, strconv.FormatInt(v.Size, 10), v.Author, src, fmtTime(v.Created))
			}
			return env.print(g, vs, t)
		},
	}
	var version int
	show := &cobra.Command{
		Use: "show NAME [--version N]", Short: "Print a notebook's content", Args: needArgs(1, "the notebook NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := env.client(g)
			if err != nil {
				return err
			}
			if g.output == "json" {
				n, err := c.Notebook(cmd.Context(), args[0])
				if err != nil {
					return err
				}
				return env.print(g, n, nil)
			}
			b, _, err := c.NotebookContent(cmd.Context(), args[0], version)
			if err != nil {
				return err
			}
			_, err = env.Stdout.Write(b)
			return err
		},
	}
	show.Flags().IntVar(&version, "version", 0, "version to print (default: the newest)")
	cmd.AddCommand(push, list, history, show, newNotebooksShareCmd(env, g), newNotebooksDeleteCmd(env, g))
	return cmd
}

func newNotebooksShareCmd(env *Env, g *globals) *cobra.Command {
	var sharing, read, write string
	c := &cobra.Command{
		Use:   "share NAME --sharing user|app|global [--read R1,R2] [--write R1]",
		Short: "Change who may see, read and change a notebook (its owner or an administrator)",
		Args:  needArgs(1, "the notebook NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if sharing == "" {
				return errdefs.Invalid("notebooks share needs --sharing user, app or global")
			}
			c, err := env.client(g)
			if err != nil {
				return err
			}
			n, err := c.ShareNotebook(cmd.Context(), args[0], sharing, nonNilList(splitList(read)), nonNilList(splitList(write)))
			if err != nil {
				return err
			}
			if g.output == "json" {
				return env.print(g, n, nil)
			}
			fmt.Fprintf(env.Stdout, "Notebook %s in app %s: sharing %s, read %s, write %s.\n", n.Name, n.App, n.Sharing, joinList(n.Read), joinList(n.Write))
			return nil
		},
	}
	c.Flags().StringVar(&sharing, "sharing", "", "user (private), app or global")
	c.Flags().StringVar(&read, "read", "", "comma-separated roles that may read (empty: everyone it is shared with; * for every role)")
	c.Flags().StringVar(&write, "write", "", "comma-separated roles that may change or delete it (empty: only the owner)")
	return c
}

func newNotebooksDeleteCmd(env *Env, g *globals) *cobra.Command {
	return &cobra.Command{
		Use: "delete NAME", Short: "Delete a notebook and its version history (needs write permission)",
		Args: needArgs(1, "the notebook NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := env.client(g)
			if err != nil {
				return err
			}
			if err := c.DeleteNotebook(cmd.Context(), args[0]); err != nil {
				return err
			}
			fmt.Fprintf(env.Stdout, "Deleted notebook %s.\n", args[0])
			return nil
		},
	}
}
