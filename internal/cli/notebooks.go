package cli

import (
	"fmt"
	"os"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/dockyard/dockyard/internal/client"
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
	var name, sharing, file string
	push := &cobra.Command{
		Use:   "push --file FILE.ipynb|FILE.py [--name NAME] [--app APP]",
		Short: "Store a notebook as a new version (when it changed); private to you in the app unless --sharing says otherwise",
		Long: "Store a notebook as a new version (when it changed); private to you in the app unless --sharing says otherwise.\n" +
			"The file may also be given as the one argument.",
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			file, err := inputFile(cmd, file, args, "FILE.ipynb|FILE.py")
			if err != nil {
				return err
			}
			format, err := notebooks.FormatOf(file)
			if err != nil {
				return err
			}
			content, err := os.ReadFile(file)
			if err != nil {
				return errdefs.Invalidf("notebook %s: %w", file, err)
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
			if g.structured() {
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
	fileFlag(push, &file, "the notebook file (.ipynb or .py)")
	push.Flags().StringVar(&name, "name", "", "notebook name, the algo= of a fit (default: the file name without extension)")
	push.Flags().StringVar(&sharing, "sharing", "", "sharing of a new notebook: user (default), app or global (app and global need publish_notebooks)")
	list := &cobra.Command{
		Use: "list", Short: "List the notebooks you may read", Args: cobra.NoArgs,
		RunE: fetch(env, g, func(cmd *cobra.Command, _ []string, c *client.Client) ([]wire.Notebook, error) {
			return c.Notebooks(cmd.Context())
		}, notebooksTable),
	}
	history := &cobra.Command{
		Use: "history NAME", Short: "List a notebook's versions", Args: needArgs(1, "the notebook NAME"),
		RunE: fetch(env, g, func(cmd *cobra.Command, args []string, c *client.Client) ([]wire.NotebookVersion, error) {
			return c.NotebookHistory(cmd.Context(), args[0])
		}, notebookVersionsTable),
	}
	var version int
	show := &cobra.Command{
		Use: "show NAME [--version N]", Short: "Print a notebook's content (with -o json or yaml: its metadata)", Args: needArgs(1, "the notebook NAME"),
		RunE: env.withClient(g, func(cmd *cobra.Command, args []string, c *client.Client) error {
			if g.structured() {
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
		}),
	}
	show.Flags().IntVar(&version, "version", 0, "version to print (default: the newest)")
	cmd.AddCommand(push, list, history, show, newNotebooksShareCmd(env, g), newNotebooksDeleteCmd(env, g))
	return cmd
}

func notebookVersionsTable(vs []wire.NotebookVersion) *table {
	t := &table{header: []string{"version", "digest", "size", "author", "source", "created"}}
	for _, v := range vs {
		src := v.Source
		if src == "" {
			src = "push"
		}
		t.add(strconv.Itoa(v.Version), v.Digest, strconv.FormatInt(v.Size, 10), v.Author, src, fmtTime(v.Created))
	}
	return t
}

func newNotebooksShareCmd(env *Env, g *globals) *cobra.Command {
	return shareCmd(env, g, "notebook", "Change who may see, read and change a notebook (its owner or an administrator)",
		"comma-separated roles that may change or delete it (empty: only the owner)",
		func(cmd *cobra.Command, c *client.Client, name, sharing string, read, write []string) (wire.Notebook, error) {
			return c.ShareNotebook(cmd.Context(), name, sharing, read, write)
		},
		func(n wire.Notebook) shared { return shared{n.Name, n.App, n.Sharing, n.Read, n.Write} })
}

func newNotebooksDeleteCmd(env *Env, g *globals) *cobra.Command {
	return env.deleteCmd(g, deleteSpec{
		use: "delete NAME", short: "Delete a notebook and its version history (needs write permission)",
		argWhat: "the notebook NAME", noun: "notebook", more: " and its version history",
		del: func(cmd *cobra.Command, c *client.Client, name string) error {
			return c.DeleteNotebook(cmd.Context(), name)
		},
	})
}
