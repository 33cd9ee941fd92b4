package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/dockyard/dockyard/internal/client"
	"github.com/dockyard/dockyard/internal/wire"
)

func init() { extraCommands = append(extraCommands, newGPUCmd) }

// count is a GPU count for tables: -1 is unknown.
func count(n int) string {
	if n < 0 {
		return "unknown"
	}
	return fmt.Sprint(n)
}

// gpuTable is the inventory as one table: a row per pool (or per runtime
// without one), per container that holds GPUs, and the caller's limit.
func gpuTable(inv wire.GPUInventory) *table {
	t := &table{header: []string{"kind", "runtime", "name", "gpus", "detail"}}
	for _, rt := range inv.Runtimes {
		switch {
		case rt.Error != "":
			t.add("error", rt.Name, "-", "-", rt.Error)
		case !rt.Supported:
			t.add("none", rt.Name, "-", "0", "this runtime gives no GPUs")
		case len(rt.Pools) == 0 && rt.Name == "docker":
			t.add("none", rt.Name, "-", "0", "no GPUs: the engine has no nvidia runtime (install the NVIDIA Container Toolkit on the Docker host)")
		case len(rt.Pools) == 0:
			t.add("none", rt.Name, "-", "0", "no GPUs on this runtime's nodes")
		}
		for _, p := range rt.Pools {
			detail := p.Resource
			if len(p.Devices) > 0 {
				detail += ": " + strings.Join(p.Devices, ", ")
			}
			t.add("pool", rt.Name, p.Node, count(p.Allocatable)+"/"+count(p.Capacity), detail)
		}
	}
	for _, h := range inv.Holders {
		detail := "owner " + h.Owner + ", " + h.Status
		if len(h.Devices) > 0 {
			detail += ", devices " + strings.Join(h.Devices, ", ")
		}
		t.add("held", h.Runtime, h.Container, fmt.Sprint(h.GPUs), detail)
	}
	y := inv.You
	t.add("limit", "-", y.User, fmt.Sprintf("%d/%s", y.Held, limitText(y.Max)), y.Source)
	return t
}

func limitText(n int) string {
	if n < 0 {
		return "unlimited"
	}
	return fmt.Sprint(n)
}

func gpuQuotasTable(list []wire.GPUQuota) *table {
	t := &table{header: []string{"kind", "name", "max", "updated_by", "updated"}}
	for _, q := range list {
		t.add(q.Kind, q.Name, fmt.Sprint(q.Max), dash(q.UpdatedBy), fmtTime(q.Updated))
	}
	return t
}

// quotaTarget is the kind and name that --user or --role names (exactly one).
func quotaTarget(cmd *cobra.Command, user, role string) (string, string, error) {
	switch {
	case user != "" && role != "":
		return "", "", usagef("%s takes --user or --role, not both", cmd.CommandPath())
	case user != "":
		return "user", user, nil
	case role != "":
		return "role", role, nil
	}
	return "", "", usagef("%s needs --user USER or --role ROLE", cmd.CommandPath())
}

func newGPUCmd(env *Env, g *globals) *cobra.Command {
	list := &cobra.Command{
		Use:   "list",
		Short: "Show the GPUs each runtime can give, the containers that hold GPUs, and your limit (needs list_mltk_container)",
		Long: "Show the GPUs each runtime can give (docker: the engine's nvidia runtime and devices), the containers that hold GPUs\n" +
			"(all of them for administrators, else those you may see) and your own limit: held/limit and the rule that sets it.",
		Args: cobra.NoArgs,
		RunE: fetch(env, g, func(cmd *cobra.Command, _ []string, c *client.Client) (wire.GPUInventory, error) {
			return c.GPUs(cmd.Context())
		}, gpuTable),
	}
	qlist := &cobra.Command{
		Use: "list", Short: "List the GPU quotas (needs configure_mltk_container)", Args: cobra.NoArgs,
		RunE: fetch(env, g, func(cmd *cobra.Command, _ []string, c *client.Client) ([]wire.GPUQuota, error) {
			return c.GPUQuotas(cmd.Context())
		}, gpuQuotasTable),
	}
	var user, role string
	var max int
	set := &cobra.Command{
		Use:   "set (--user USER | --role ROLE) --max N",
		Short: "Set the most GPUs a user, or each member of a role, may hold at once (needs configure_mltk_container)",
		Long: "Set the most GPUs a user, or each member of a role, may hold at once (needs configure_mltk_container).\n" +
			"A user's limit is their own quota when set, else the largest quota of their roles, else containers.gpu.default_quota.\n" +
			"A role quota caps each member on their own. Starting a container with GPUs also needs use_gpu.",
		Args: cobra.NoArgs,
		RunE: fetch(env, g, func(cmd *cobra.Command, _ []string, c *client.Client) (wire.GPUQuota, error) {
			kind, name, err := quotaTarget(cmd, user, role)
			if err != nil {
				return wire.GPUQuota{}, err
			}
			if !cmd.Flags().Changed("max") {
				return wire.GPUQuota{}, usagef("%s needs --max N", cmd.CommandPath())
			}
			return c.SetGPUQuota(cmd.Context(), kind, name, max)
		}, one(gpuQuotasTable)),
	}
	set.Flags().StringVar(&user, "user", "", "the user whose quota to set")
	set.Flags().StringVar(&role, "role", "", "the role whose members' quota to set")
	set.Flags().IntVar(&max, "max", 0, "the most GPUs (0: none)")
	var ruser, rrole string
	var yes bool
	remove := &cobra.Command{
		Use:   "remove (--user USER | --role ROLE)",
		Short: "Remove a GPU quota: the user falls back to their roles' quotas or the default (needs configure_mltk_container)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			kind, name, err := quotaTarget(cmd, ruser, rrole)
			if err != nil {
				return err
			}
			if err := env.confirm(cmd, yes, fmt.Sprintf("Remove the GPU quota of %s %s", kind, name)); err != nil {
				return err
			}
			c, err := env.client(g)
			if err != nil {
				return err
			}
			if err := c.RemoveGPUQuota(cmd.Context(), kind, name); err != nil {
				return err
			}
			return env.say(g, map[string]string{"removed": kind + ":" + name}, "Removed the GPU quota of %s %s.", kind, name)
		},
	}
	remove.Flags().StringVar(&ruser, "user", "", "the user whose quota to remove")
	remove.Flags().StringVar(&rrole, "role", "", "the role whose quota to remove")
	yesFlag(remove, &yes)
	quota := group("quota", "GPU quotas: the most GPUs a user, or each member of a role, may hold at once", qlist, remove, set)
	return group("gpu", "GPUs: what the runtimes can give, who holds what, and the quotas", list, quota)
}
