package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/dockyard/dockyard/internal/client"
	"github.com/dockyard/dockyard/internal/wire"
)

func init() { extraCommands = append(extraCommands, newIndexesCmd) }

func newIndexesCmd(env *Env, g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "indexes", Short: "List, create and delete event indexes"}
	list := &cobra.Command{
		Use:   "list",
		Short: "List the indexes you may search, with event counts",
		Args:  cobra.NoArgs,
		RunE: fetch(env, g, func(cmd *cobra.Command, _ []string, c *client.Client) ([]wire.Index, error) {
			return c.Indexes(cmd.Context())
		}, indexTable),
	}
	create := &cobra.Command{
		Use:   "create NAME",
		Short: "Create an event index (needs edit_indexes)",
		Args:  needArgs(1, "the new index's NAME"),
		RunE: fetch(env, g, func(cmd *cobra.Command, args []string, c *client.Client) (wire.Index, error) {
			return c.CreateIndex(cmd.Context(), args[0])
		}, one(indexTable)),
	}
	del := env.deleteCmd(g, deleteSpec{
		use: "delete NAME", short: "Delete an event index and all its events (needs edit_indexes)",
		argWhat: "the index's NAME", noun: "index", more: " and its events",
		del: func(cmd *cobra.Command, c *client.Client, name string) error {
			return c.DeleteIndex(cmd.Context(), name)
		},
	})
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
