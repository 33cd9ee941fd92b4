package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/dockyard/dockyard/internal/wire"
)

func init() { extraCommands = append(extraCommands, newIndexesCmd) }

func newIndexesCmd(env *Env, g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "indexes", Short: "List, create and delete event indexes"}
	list := &cobra.Command{
		Use:   "list",
		Short: "List the indexes you may search, with event counts",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := env.client(g)
			if err != nil {
				return err
			}
			is, err := c.Indexes(cmd.Context())
			if err != nil {
				return err
			}
			return env.print(g, is, indexTable(is))
		},
	}
	create := &cobra.Command{
		Use:   "create NAME",
		Short: "Create an event index (needs edit_indexes)",
		Args:  needArgs(1, "the new index's NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := env.client(g)
			if err != nil {
				return err
			}
			ix, err := c.CreateIndex(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return env.print(g, ix, indexTable([]wire.Index{ix}))
		},
	}
	del := &cobra.Command{
		Use:   "delete NAME",
		Short: "Delete an event index and all its events (needs edit_indexes)",
		Args:  needArgs(1, "the index's NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := env.client(g)
			if err != nil {
				return err
			}
			if err := c.DeleteIndex(cmd.Context(), args[0]); err != nil {
				return err
			}
			if g.output == "json" {
				return env.print(g, map[string]string{"deleted": args[0]}, nil)
			}
			fmt.Fprintf(env.Stdout, "Deleted index %s and its events.\n", args[0])
			return nil
		},
	}
	cmd.AddCommand(list, create, del)
	return cmd
}

func indexTable(is []wire.Index) *table {
	t := &table{header: []string{"name", "events", "builtin", "created"}}
	for _, i := range is {
		t.add(i.Name, fmt.Sprint(i.Events), fmt.Sprint(i.Builtin), fmtTime(i.Created))
	}
	return t
}
