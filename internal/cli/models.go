package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/dockyard/dockyard/internal/client"
	"github.com/dockyard/dockyard/internal/errdefs"
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
		newModelsAliasCmd(env, g), newModelsHistoryCmd(env, g), newModelsShareCmd(env, g), newModelsDeleteCmd(env, g))
	return cmd
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
			for _, m := range all {
				t.add(m.Name, m.App, m.Owner, m.Sharing, versionText(m.Current), versionText(m.Latest), dash(m.Algo), permsText(m.Perms), fmtTime(m.Updated))
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
	return &cobra.Command{
		Use:   "show MODEL",
		Short: "Show a model and its current version (or the version MODEL@N or MODEL@ALIAS names)",
		Args:  needArgs(1, "the MODEL ([app:]NAME[@VERSION|@ALIAS])"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := env.client(g)
			if err != nil {
				return err
			}
			s, err := c.Model(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return env.print(g, s, summaryTable(s))
		},
	}
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
	for _, kv := range [][2]string{{"notebook", s.Notebook}, {"notebook digest", s.NotebookDigest}, {"image", s.Image},
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
	return &cobra.Command{
		Use:   "versions MODEL",
		Short: "List a model's versions, newest first, with the aliases that point at each",
		Args:  needArgs(1, "the MODEL ([app:]NAME)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := env.client(g)
			if err != nil {
				return err
			}
			vs, err := c.ModelVersions(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			t := &table{header: []string{"version", "digest", "algo", "files", "size", "creator", "created", "aliases"}}
			for _, v := range vs {
				t.add(strconv.Itoa(v.Version), shortDigest(v.Digest), dash(v.Algo), strconv.Itoa(v.Files), strconv.FormatInt(v.Size, 10),
					v.Creator, fmtTime(v.Created), joinList(v.Aliases))
			}
			return env.print(g, vs, t)
		},
	}
}

func newModelsHistoryCmd(env *Env, g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "history MODEL",
		Short: "List every alias move of a model, oldest first: who, when, from, to, why",
		Args:  needArgs(1, "the MODEL ([app:]NAME)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := env.client(g)
			if err != nil {
				return err
			}
			mvs, err := c.ModelHistory(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			t := &table{header: []string{"time", "alias", "from", "to", "user", "reason"}}
			for _, mv := range mvs {
				t.add(fmtTime(mv.Time), mv.Alias, versionText(mv.From), versionText(mv.To), mv.User, dash(mv.Reason))
			}
			return env.print(g, mvs, t)
		},
	}
}

func newModelsRollbackCmd(env *Env, g *globals) *cobra.Command {
	var to int
	var reason string
	cmd := &cobra.Command{
		Use:   "rollback MODEL --to N [--reason R]",
		Short: "Move the current alias of a model back (or forward) to version N",
		Args:  needArgs(1, "the MODEL ([app:]NAME)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if to <= 0 {
				return errdefs.Invalid("models rollback needs --to N, a version from `dockyard models versions " + args[0] + "`")
			}
			c, err := env.client(g)
			if err != nil {
				return err
			}
			mv, err := c.RollbackModel(cmd.Context(), args[0], to, reason)
			if err != nil {
				return err
			}
			return printMove(env, g, args[0], mv)
		},
	}
	cmd.Flags().IntVar(&to, "to", 0, "the version current moves to")
	cmd.Flags().StringVar(&reason, "reason", "", "why, recorded in the history")
	return cmd
}

func newModelsAliasCmd(env *Env, g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "alias", Short: "Set a model's aliases (production, staging, ...)"}
	var reason string
	set := &cobra.Command{
		Use:   "set MODEL ALIAS N [--reason R]",
		Short: "Point ALIAS of a model at version N (needs write permission); the move is recorded",
		Args:  needArgs(3, "the MODEL, the ALIAS and the version N"),
		RunE: func(cmd *cobra.Command, args []string) error {
			n, err := strconv.Atoi(args[2])
			if err != nil || n <= 0 {
				return errdefs.Invalid(fmt.Sprintf("version %q is not a number from 1: see `dockyard models versions %s`", args[2], args[0]))
			}
			c, err := env.client(g)
			if err != nil {
				return err
			}
			mv, err := c.SetModelAlias(cmd.Context(), args[0], args[1], n, reason)
			if err != nil {
				return err
			}
			return printMove(env, g, args[0], mv)
		},
	}
	set.Flags().StringVar(&reason, "reason", "", "why, recorded in the history")
	cmd.AddCommand(set)
	return cmd
}

func printMove(env *Env, g *globals, model string, mv wire.ModelAliasMove) error {
	if g.output == "json" {
		return env.print(g, mv, nil)
	}
	if mv.From == 0 {
		fmt.Fprintf(env.Stdout, "Alias %s of model %s now points at version %d.\n", mv.Alias, model, mv.To)
	} else {
		fmt.Fprintf(env.Stdout, "Alias %s of model %s moved from version %d to %d.\n", mv.Alias, model, mv.From, mv.To)
	}
	return nil
}

func newModelsShareCmd(env *Env, g *globals) *cobra.Command {
	var sharing, read, write string
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
				return errdefs.Invalid("models share needs --sharing user|app|global, --read ROLES or --write ROLES")
			}
			c, err := env.client(g)
			if err != nil {
				return err
			}
			m, err := c.ShareModel(cmd.Context(), args[0], req)
			if err != nil {
				return err
			}
			if g.output == "json" {
				return env.print(g, m, nil)
			}
			fmt.Fprintf(env.Stdout, "Model %s of app %s is shared at %s level; read: %s; write: %s.\n",
				m.Name, m.App, m.Sharing, rolesText(m.Read, "every role"), rolesText(m.Write, "the owner only"))
			return nil
		},
	}
	cmd.Flags().StringVar(&sharing, "sharing", "", "user (private), app or global")
	cmd.Flags().StringVar(&read, "read", "", "roles that may read, comma-separated (empty: every role the sharing reaches)")
	cmd.Flags().StringVar(&write, "write", "", "roles that may write, comma-separated (empty: only the owner)")
	return cmd
}

func newModelsDeleteCmd(env *Env, g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "delete MODEL",
		Short: "Delete a model with all its versions, aliases and history (needs write permission)",
		Args:  needArgs(1, "the MODEL ([app:]NAME)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := env.client(g)
			if err != nil {
				return err
			}
			if err := c.DeleteModel(cmd.Context(), args[0]); err != nil {
				return err
			}
			if g.output == "json" {
				return env.print(g, map[string]string{"deleted": args[0]}, nil)
			}
			fmt.Fprintf(env.Stdout, "Deleted model %s.\n", args[0])
			return nil
		},
	}
}

func newModelsImportCmd(env *Env, g *globals) *cobra.Command {
	var from, algo string
	cmd := &cobra.Command{
		Use:   "import MODEL --from DIR|FILE.tar [--algo NAME]",
		Short: "Register a directory of files, or an archive from `models export`, as a new version",
		Long: "A directory's regular files become the version's files (links and special files are skipped).\n" +
			"An archive is checked file by file against its manifest; a changed, missing or extra file\n" +
			"fails the import and nothing is registered. --algo replaces an archive's algo.",
		Args: needArgs(1, "the MODEL ([app:]NAME) to add a version to"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if from == "" {
				return errdefs.Invalid("models import needs --from DIR (a directory of model files) or --from FILE.tar (from `dockyard models export`)")
			}
			info, err := os.Stat(from)
			if err != nil {
				return errdefs.Invalid(fmt.Sprintf("--from %s: %v; give a directory or a .tar file", from, err))
			}
			c, err := env.client(g)
			if err != nil {
				return err
			}
			var v wire.ModelVersion
			if info.IsDir() {
				var skipped []string
				v, skipped, err = c.ImportModelDir(cmd.Context(), args[0], from, algo)
				for _, s := range skipped {
					fmt.Fprintln(env.Stderr, "warning:", s)
				}
			} else {
				f, ferr := os.Open(from)
				if ferr != nil {
					return errdefs.Invalid(fmt.Sprintf("--from %s: %v", from, ferr))
				}
				defer f.Close()
				v, err = c.ImportModelTar(cmd.Context(), args[0], algo, f)
			}
			if err != nil {
				return err
			}
			if g.output == "json" {
				return env.print(g, v, nil)
			}
			fmt.Fprintf(env.Stdout, "Imported %s as version %d of model %s in app %s (%s, %s, %d bytes); current points at it.\n",
				from, v.Version, v.Model, v.App, v.Digest, plural(v.Files, "file"), v.Size)
			return nil
		},
	}
	cmd.Flags().StringVar(&from, "from", "", "a directory of model files, or a .tar archive from `models export`")
	cmd.Flags().StringVar(&algo, "algo", "", "the algorithm that reads these files (apply picks its runner by it)")
	return cmd
}

func newModelsExportCmd(env *Env, g *globals) *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "export MODEL[@N|@ALIAS] -o FILE.tar",
		Short: "Write a version (default: current) as a tar archive with its manifest, to import elsewhere",
		Args:  needArgs(1, "the MODEL ([app:]NAME[@VERSION|@ALIAS])"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if out == "" {
				return errdefs.Invalid("models export needs -o FILE.tar (or -o - for standard output)")
			}
			c, err := env.client(g)
			if err != nil {
				return err
			}
			if out == "-" {
				_, err := c.ExportModel(cmd.Context(), args[0], env.Stdout)
				return err
			}
			// Write next to the target and rename, so that a failed download
			// never leaves a short file that looks like an export.
			tmp, err := os.CreateTemp(filepath.Dir(out), "."+filepath.Base(out)+".*")
			if err != nil {
				return fmt.Errorf("models export: %w", err)
			}
			defer os.Remove(tmp.Name())
			res, err := c.ExportModel(cmd.Context(), args[0], tmp)
			if err != nil {
				tmp.Close()
				return err
			}
			if err := tmp.Close(); err != nil {
				return fmt.Errorf("models export: %w", err)
			}
			if err := os.Rename(tmp.Name(), out); err != nil {
				return fmt.Errorf("models export: %w", err)
			}
			fmt.Fprintf(env.Stderr, "Wrote version %d of %s (%s, %d bytes) to %s; import it with `dockyard models import MODEL --from %s`.\n",
				res.Version, args[0], res.Digest, res.Bytes, out, out)
			return nil
		},
	}
	// -o here is the file, shadowing the global output format.
	cmd.Flags().StringVarP(&out, "output", "o", "", "the file to write (- for standard output)")
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
