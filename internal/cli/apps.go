package cli

import (
	"strconv"

	"github.com/spf13/cobra"

	"github.com/dockyard/dockyard/internal/wire"
)

func init() { extraCommands = append(extraCommands, newAppsCmd) }

func appsTable(as []wire.App) *table {
	t := &table{header: []string{"name", "read", "write", "you_may_share_into", "created_by", "updated"}}
	for _, a := range as {
		t.add(a.Name, joinList(a.Read), joinList(a.Write), strconv.FormatBool(a.CanWrite), a.CreatedBy, fmtTime(a.Updated))
	}
	return t
}

// roleListFlag is the value of --read or --write: comma-separated roles,
// "*" for every role, "" (given) for none.
func roleListFlag(cmd *cobra.Command, flag, value string) *[]string {
	if !cmd.Flags().Changed(flag) {
		return nil
	}
	l := splitList(value)
	if l == nil {
		l = []string{}
	}
	return &l
}

func newAppsCmd(env *Env, g *globals) *cobra.Command {
	return group("apps", "List apps, and create, change or delete them (needs admin_all_objects)",
		newAppsCreateCmd(env, g), newAppsListCmd(env, g), newAppsShowCmd(env, g),
		newAppsUpdateCmd(env, g), newAppsDeleteCmd(env, g))
}
