package cli

import (
	"fmt"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/dockyard/dockyard/internal/client"
	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/wire"
)

func newModelsHistoryCmd(env *Env, g *globals) *cobra.Command {
	var owner string
	cmd := &cobra.Command{
		Use:   "history MODEL",
		Short: "List every alias move of a model, oldest first: who, when, from, to, why",
		Args:  needArgs(1, "the MODEL ([app:]NAME)"),
		RunE: fetch(env, g, func(cmd *cobra.Command, args []string, c *client.Client) ([]wire.ModelAliasMove, error) {
			return c.ModelHistory(cmd.Context(), args[0], client.ModelOwner(owner))
		}, func(mvs []wire.ModelAliasMove) *table {
			t := &table{header: []string{"time", "alias", "from", "to", "user", "reason"}}
			for _, mv := range mvs {
				t.add(fmtTime(mv.Time), mv.Alias, versionText(mv.From), versionText(mv.To), mv.User, dash(mv.Reason))
			}
			return t
		}),
	}
	ownerFlag(cmd, &owner)
	return cmd
}

func newModelsRollbackCmd(env *Env, g *globals) *cobra.Command {
	var to int
	var reason string
	var owner string
	cmd := &cobra.Command{
		Use:   "rollback MODEL --to N [--reason R]",
		Short: "Move the current alias of a model back (or forward) to version N",
		Args:  needArgs(1, "the MODEL ([app:]NAME)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if to <= 0 {
				return usagef("models rollback needs --to N, a version from `dockyard models versions %s`", args[0])
			}
			c, err := env.client(g)
			if err != nil {
				return err
			}
			mv, err := c.RollbackModel(cmd.Context(), args[0], to, reason, client.ModelOwner(owner))
			if err != nil {
				return err
			}
			return printMove(env, g, args[0], mv)
		},
	}
	cmd.Flags().IntVar(&to, "to", 0, "the version current moves to")
	cmd.Flags().StringVar(&reason, "reason", "", "why, recorded in the history")
	ownerFlag(cmd, &owner)
	return cmd
}

func newModelsAliasCmd(env *Env, g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "alias", Short: "Set or remove a model's aliases (production, staging, ...)"}
	var reason string
	var owner string
	set := &cobra.Command{
		Use:   "set MODEL ALIAS N [--reason R]",
		Short: "Point ALIAS of a model at version N (needs write permission); the move is recorded",
		Args:  needArgs(3, "the MODEL, the ALIAS and the version N"),
		RunE: func(cmd *cobra.Command, args []string) error {
			n, err := strconv.Atoi(args[2])
			if err != nil || n <= 0 {
				return errdefs.Invalidf("version %q is not a number from 1: see `dockyard models versions %s`", args[2], args[0])
			}
			c, err := env.client(g)
			if err != nil {
				return err
			}
			mv, err := c.SetModelAlias(cmd.Context(), args[0], args[1], n, reason, client.ModelOwner(owner))
			if err != nil {
				return err
			}
			return printMove(env, g, args[0], mv)
		},
	}
	set.Flags().StringVar(&reason, "reason", "", "why, recorded in the history")
	ownerFlag(set, &owner)
	cmd.AddCommand(set, newModelsAliasRemoveCmd(env, g))
	return cmd
}

func newModelsAliasRemoveCmd(env *Env, g *globals) *cobra.Command {
	var reason string
	var owner string
	var yes bool
	cmd := &cobra.Command{
		Use:   "remove MODEL ALIAS [--reason R]",
		Short: "Remove ALIAS from a model (needs write permission); current cannot be removed, only moved",
		Args:  needArgs(2, "the MODEL and the ALIAS"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if args[1] == "current" {
				return errdefs.Invalidf("the alias current cannot be removed, only moved: "+
					"move it with `dockyard models rollback %s --to N` (versions: `dockyard models versions %s`)", args[0], args[0])
			}
			if err := env.confirm(cmd, yes, fmt.Sprintf("Remove alias %s of model %s", args[1], args[0])); err != nil {
				return err
			}
			c, err := env.client(g)
			if err != nil {
				return err
			}
			mv, err := c.RemoveModelAlias(cmd.Context(), args[0], args[1], reason, client.ModelOwner(owner))
			if err != nil {
				return err
			}
			return env.say(g, mv, "Removed alias %s of model %s (it pointed at version %d).", mv.Alias, args[0], mv.From)
		},
	}
	cmd.Flags().StringVar(&reason, "reason", "", "why, recorded in the history")
	ownerFlag(cmd, &owner)
	yesFlag(cmd, &yes)
	return cmd
}

func printMove(env *Env, g *globals, model string, mv wire.ModelAliasMove) error {
	if g.structured() {
		return env.print(g, mv, nil)
	}
	if mv.From == 0 {
		fmt.Fprintf(env.Stdout, "Alias %s of model %s now points at version %d.\n", mv.Alias, model, mv.To)
	} else {
		fmt.Fprintf(env.Stdout, "Alias %s of model %s moved from version %d to %d.\n", mv.Alias, model, mv.From, mv.To)
	}
	return nil
}
