package cli

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/dockyard/dockyard/internal/client"
	"github.com/dockyard/dockyard/internal/wire"
)

func init() { extraCommands = append(extraCommands, newModelsCmd) }

func newModelsCmd(env *Env, g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "models",
		Short: "Model registry: list, show, import and export versions, aliases, rollback, sharing",
		Long: "MODEL is [app:]NAME[@VERSION|@ALIAS]. NAME is your private model in the current app (--app),\n" +
			"else the one shared in the app, else a globally shared one; app:NAME skips private ones.",
	}
	cmd.AddCommand(newModelsListCmd(env, g), newModelsShowCmd(env, g), newModelsVersionsCmd(env, g),
		newModelsImportCmd(env, g), newModelsExportCmd(env, g), newModelsRollbackCmd(env, g),
		newModelsAliasCmd(env, g), newModelsHistoryCmd(env, g), newModelsShareCmd(env, g), newModelsUpdateCmd(env, g),
		newModelsDeleteCmd(env, g), newModelsKeysCmd(env, g))
	return cmd
}

// ownerFlag adds --owner to a command that takes a MODEL.
func ownerFlag(cmd *cobra.Command, owner *string) {
	cmd.Flags().StringVar(owner, "owner", "", "address this user's private model in the app (needs admin_all_objects)")
}

func newModelsListCmd(env *Env, g *globals) *cobra.Command {
	var f client.ModelFilter
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the models you may read (all of them, or one page with --limit)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := env.client(g)
			if err != nil {
				return err
			}
			all := []wire.Model{}
			for {
				page, err := c.Models(cmd.Context(), f)
				if err != nil {
					return err
				}
				all = append(all, page.Models...)
				if page.Next == "" {
					break
				}
				if f.Limit > 0 {
					fmt.Fprintf(env.Stderr, "More models follow: pass --after %s for the next page.\n", page.Next)
					break
				}
				f.After = page.Next
			}
			t := &table{header: []string{"name", "app", "owner", "sharing", "current", "latest", "algo", "perms", "updated"}}
			incomplete := 0
			for _, m := range all {
				latest := versionText(m.Latest)
				if m.Latest == 0 {
					// Left by an older version's interrupted import or fit.
					latest, incomplete = "none (incomplete)", incomplete+1
				}
				t.add(m.Name, m.App, m.Owner, m.Sharing, versionText(m.Current), latest, dash(m.Algo), permsText(m.Perms), fmtTime(m.Updated))
			}
			if incomplete > 0 {
				fmt.Fprintf(env.Stderr, "%d model(s) have no version (an import or fit was interrupted): import or fit a version into them, or delete them.\n", incomplete)
			}
			return env.print(g, all, t)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.App, "in-app", "", "only models of this app")
	fl.StringVar(&f.Owner, "owner", "", "only models owned by this user")
	fl.StringVar(&f.Sharing, "sharing", "", "only models shared at this level: user, app or global")
	fl.StringVar(&f.Algo, "algo", "", "only models whose current version has this algo")
	fl.StringVar(&f.Tag, "tag", "", "only models with this tag")
	fl.StringVar(&f.Search, "search", "", "only models whose name contains this text (any case)")
	fl.IntVar(&f.Limit, "limit", 0, "print one page of this many models")
	fl.StringVar(&f.After, "after", "", "start after this cursor (printed when more models follow)")
	return cmd
}

func newModelsShowCmd(env *Env, g *globals) *cobra.Command {
	var owner string
	cmd := &cobra.Command{
		Use:   "show MODEL",
		Short: "Show a model and its current version (or the version MODEL@N or MODEL@ALIAS names)",
		Args:  needArgs(1, "the MODEL ([app:]NAME[@VERSION|@ALIAS])"),
		RunE: fetch(env, g, func(cmd *cobra.Command, args []string, c *client.Client) (wire.ModelSummary, error) {
			return c.Model(cmd.Context(), args[0], client.ModelOwner(owner))
		}, summaryTable),
	}
	ownerFlag(cmd, &owner)
	return cmd
}

func summaryTable(s wire.ModelSummary) *table {
	t := &table{header: []string{"field", "value"}}
	t.add("name", s.Name)
	t.add("app", s.App)
	t.add("owner", s.Owner)
	t.add("sharing", s.Sharing)
	t.add("read roles", joinList(s.ReadRoles))
	t.add("write roles", joinList(s.WriteRoles))
	t.add("your perms", permsText(s.Perms))
	if s.Description != "" {
		t.add("description", s.Description)
	}
	if len(s.Tags) > 0 {
		t.add("tags", joinList(s.Tags))
	}
	t.add("version", versionText(s.Version))
	if s.Version == 0 {
		return t
	}
	t.add("digest", s.Digest)
	t.add("algo", dash(s.Algo))
	t.add("created", fmtTime(s.Created))
	t.add("creator", s.Creator)
	t.add("files", fmt.Sprintf("%s, %d bytes", plural(s.Files, "file"), s.Size))
	names := make([]string, 0, len(s.Aliases))
	for a := range s.Aliases {
		names = append(names, a)
	}
	sort.Strings(names)
	var aliases []string
	for _, a := range names {
		aliases = append(aliases, fmt.Sprintf("%s=%d", a, s.Aliases[a]))
	}
	t.add("aliases", joinList(aliases))
	if len(s.Params) > 0 {
		t.add("params", sortedPairs(s.Params))
	}
	nb := s.Notebook
	if nb != "" && s.NotebookVersion > 0 {
		nb = fmt.Sprintf("%s version %d", nb, s.NotebookVersion)
		if s.NotebookPinned {
			nb += " (apply and summary run exactly this version)"
		}
	}
	for _, kv := range [][2]string{{"notebook", nb}, {"notebook digest", s.NotebookDigest}, {"image", s.Image},
		{"image digest", s.ImageDigest}, {"container", s.Container}, {"runtime", s.Runtime}, {"target", s.Target},
		{"data fingerprint", s.DataFingerprint}} {
		if kv[1] != "" {
			t.add(kv[0], kv[1])
		}
	}
	if s.Rows > 0 {
		t.add("rows", strconv.FormatInt(s.Rows, 10))
	}
	if len(s.Features) > 0 {
		t.add("features", joinList(s.Features))
	}
	return t
}

func newModelsVersionsCmd(env *Env, g *globals) *cobra.Command {
	var owner string
	cmd := &cobra.Command{
		Use:   "versions MODEL",
		Short: "List a model's versions, newest first, with the aliases that point at each",
		Args:  needArgs(1, "the MODEL ([app:]NAME)"),
		RunE: fetch(env, g, func(cmd *cobra.Command, args []string, c *client.Client) ([]wire.ModelVersion, error) {
			return c.ModelVersions(cmd.Context(), args[0], client.ModelOwner(owner))
		}, versionsTable),
	}
	ownerFlag(cmd, &owner)
	return cmd
}

func versionsTable(vs []wire.ModelVersion) *table {
	t := &table{header: []string{"version", "digest", "algo", "files", "size", "creator", "created", "aliases"}}
	for _, v := range vs {
		t.add(strconv.Itoa(v.Version), shortDigest(v.Digest), dash(v.Algo), strconv.Itoa(v.Files), strconv.FormatInt(v.Size, 10),
			v.Creator, fmtTime(v.Created), joinList(v.Aliases))
	}
	return t
}

func newModelsShareCmd(env *Env, g *globals) *cobra.Command {
	var sharing, read, write string
	var owner string
	cmd := &cobra.Command{
		Use:   "share MODEL --sharing user|app|global [--read R1,R2] [--write R1]",
		Short: "Change who may read and write a model (its owner or admin_all_objects); flags left out keep their value",
		Args:  needArgs(1, "the MODEL ([app:]NAME)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			var req wire.ModelShareRequest
			req.Sharing = sharing
			if cmd.Flags().Changed("read") {
				l := append([]string{}, splitList(read)...)
				req.Read = &l
			}
			if cmd.Flags().Changed("write") {
				l := append([]string{}, splitList(write)...)
				req.Write = &l
			}
			if req.Sharing == "" && req.Read == nil && req.Write == nil {
				return usagef("models share needs --sharing user|app|global, --read ROLES or --write ROLES")
			}
			c, err := env.client(g)
			if err != nil {
				return err
			}
			m, err := c.ShareModel(cmd.Context(), args[0], req, client.ModelOwner(owner))
			if err != nil {
				return err
			}
			return env.say(g, m, "Model %s of app %s is shared at %s level; read: %s; write: %s.",
				m.Name, m.App, m.Sharing, rolesText(m.Read, "every role"), rolesText(m.Write, "the owner only"))
		},
	}
	cmd.Flags().StringVar(&sharing, "sharing", "", "user (private), app or global")
	cmd.Flags().StringVar(&read, "read", "", "roles that may read, comma-separated (empty: every role the sharing reaches)")
	cmd.Flags().StringVar(&write, "write", "", "roles that may write, comma-separated (empty: only the owner)")
	ownerFlag(cmd, &owner)
	return cmd
}

func newModelsUpdateCmd(env *Env, g *globals) *cobra.Command {
	var description, tags string
	var owner string
	cmd := &cobra.Command{
		Use:   "update MODEL [--description TEXT] [--tag T1,T2]",
		Short: "Change a model's description and tags (needs write permission); flags left out keep their value",
		Args:  needArgs(1, "the MODEL ([app:]NAME)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			var u client.ModelUpdate
			if cmd.Flags().Changed("description") {
				u.Description = &description
			}
			if cmd.Flags().Changed("tag") {
				l := append([]string{}, splitList(tags)...)
				u.Tags = &l
			}
			if u.Description == nil && u.Tags == nil {
				return usagef("models update needs --description TEXT or --tag T1,T2 (--tag \"\" removes every tag)")
			}
			c, err := env.client(g)
			if err != nil {
				return err
			}
			m, err := c.UpdateModel(cmd.Context(), args[0], u, client.ModelOwner(owner))
			if err != nil {
				return err
			}
			return env.say(g, m, "Updated model %s of app %s; description: %s; tags: %s.", m.Name, m.App, dash(m.Description), joinList(m.Tags))
		},
	}
	cmd.Flags().StringVar(&description, "description", "", "what the model is for (\"\" removes it)")
	cmd.Flags().StringVar(&tags, "tag", "", "the model's tags, comma-separated, replacing the old ones (\"\" removes every tag)")
	ownerFlag(cmd, &owner)
	return cmd
}

func newModelsDeleteCmd(env *Env, g *globals) *cobra.Command {
	var owner string
	cmd := env.deleteCmd(g, deleteSpec{
		use: "delete MODEL", short: "Delete a model with all its versions, aliases and history (needs write permission)",
		argWhat: "the MODEL ([app:]NAME)", noun: "model", more: " with all its versions",
		del: func(cmd *cobra.Command, c *client.Client, name string) error {
			return c.DeleteModel(cmd.Context(), name, client.ModelOwner(owner))
		},
	})
	ownerFlag(cmd, &owner)
	return cmd
}

func versionText(n int) string {
	if n == 0 {
		return "-"
	}
	return strconv.Itoa(n)
}

func permsText(p wire.ModelPerms) string {
	b := []byte("---")
	if p.Read {
		b[0] = 'r'
	}
	if p.Write {
		b[1] = 'w'
	}
	if p.Share {
		b[2] = 's'
	}
	return string(b)
}

func rolesText(roles []string, empty string) string {
	if len(roles) == 0 {
		return empty
	}
	return strings.Join(roles, ",")
}

func shortDigest(d string) string {
	if len(d) > len("sha256:")+12 {
		return d[:len("sha256:")+12]
	}
	return d
}

func sortedPairs(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, k+"="+m[k])
	}
	return strings.Join(parts, " ")
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return strconv.Itoa(n) + " " + what + "s"
}
