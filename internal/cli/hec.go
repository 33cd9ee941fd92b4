package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/dockyard/dockyard/internal/client"
	"github.com/dockyard/dockyard/internal/wire"
)

func init() { extraCommands = append(extraCommands, newHECCmd) }

func newHECCmd(env *Env, g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "hec", Short: "HTTP Event Collector tokens (needs edit_hec_token)"}
	tokens := &cobra.Command{Use: "tokens", Short: "Create, list, disable, enable and delete HEC tokens"}
	tokens.AddCommand(newHECCreateCmd(env, g), newHECListCmd(env, g), newHECDeleteCmd(env, g),
		newHECSetDisabledCmd(env, g, true), newHECSetDisabledCmd(env, g, false))
	cmd.AddCommand(tokens)
	return cmd
}

func newHECCreateCmd(env *Env, g *globals) *cobra.Command {
	var indexes, def string
	var ack bool
	cmd := &cobra.Command{
		Use:   "create NAME --index INDEX[,INDEX] [--default-index INDEX] [--ack]",
		Short: "Create a HEC token for a set of indexes; its secret is printed once",
		Args:  needArgs(1, "the token's NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			ixs := splitList(indexes)
			if len(ixs) == 0 {
				return usagef("hec tokens create needs --index INDEX[,INDEX] (the indexes the token may write to; * for every index but _internal)")
			}
			c, err := env.client(g)
			if err != nil {
				return err
			}
			nt, err := c.CreateHECToken(cmd.Context(), wire.HECTokenRequest{Name: args[0], Indexes: ixs, DefaultIndex: def, UseAck: ack})
			if err != nil {
				return err
			}
			if g.structured() {
				return env.print(g, nt, nil)
			}
			t := &table{header: []string{"name", "token", "indexes", "default_index", "use_ack"}}
			t.add(nt.Name, nt.Token, joinList(nt.Indexes), nt.DefaultIndex, fmt.Sprint(nt.UseAck))
			if err := env.print(g, nt, t); err != nil {
				return err
			}
			fmt.Fprintln(env.Stderr, "The token is shown only now: send it as `Authorization: Splunk <token>` to /services/collector/event.")
			if nt.UseAck {
				fmt.Fprintln(env.Stderr, "Acknowledgement is on: send a channel GUID as `X-Splunk-Request-Channel` and query ack ids at /services/collector/ack.")
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&indexes, "index", "", "indexes the token may write to, comma-separated (* for every index but _internal)")
	cmd.Flags().StringVar(&def, "default-index", "", "index of events that name none (default: the first --index)")
	cmd.Flags().BoolVar(&ack, "ack", false, "turn on indexer acknowledgement: requests must name a channel and successes carry an ackId")
	return cmd
}

func hecTable(ts []wire.HECToken) *table {
	t := &table{header: []string{"name", "last4", "indexes", "default_index", "disabled", "use_ack", "creator", "created"}}
	for _, x := range ts {
		t.add(x.Name, x.Last4, joinList(x.Indexes), x.DefaultIndex, fmt.Sprint(x.Disabled), fmt.Sprint(x.UseAck), x.Creator, fmtTime(x.Created))
	}
	return t
}

func newHECListCmd(env *Env, g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List HEC tokens (never their secrets: only the last four characters)",
		Args:  cobra.NoArgs,
		RunE: fetch(env, g, func(cmd *cobra.Command, _ []string, c *client.Client) ([]wire.HECToken, error) {
			return c.HECTokens(cmd.Context())
		}, hecTable),
	}
}

func newHECDeleteCmd(env *Env, g *globals) *cobra.Command {
	return env.deleteCmd(g, deleteSpec{
		use: "delete NAME", short: "Delete a HEC token; its secret stops working at once",
		argWhat: "the token's NAME", noun: "HEC token",
		del: func(cmd *cobra.Command, c *client.Client, name string) error {
			return c.DeleteHECToken(cmd.Context(), name)
		},
	})
}

func newHECSetDisabledCmd(env *Env, g *globals, disabled bool) *cobra.Command {
	verb, short := "enable", "Re-enable a disabled HEC token"
	if disabled {
		verb, short = "disable", "Disable a HEC token (the collector answers code 1) without deleting it"
	}
	return &cobra.Command{
		Use:   verb + " NAME",
		Short: short,
		Args:  needArgs(1, "the token's NAME"),
		RunE: env.withClient(g, func(cmd *cobra.Command, args []string, c *client.Client) error {
			if err := c.SetHECTokenDisabled(cmd.Context(), args[0], disabled); err != nil {
				return err
			}
			return env.say(g, map[string]string{verb + "d": args[0]}, "HEC token %s %sd.", args[0], verb)
		}),
	}
}
