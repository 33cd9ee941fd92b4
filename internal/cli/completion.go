package cli

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/dockyard/dockyard/internal/client"
	"github.com/dockyard/dockyard/internal/wire"
)

// Shell completion of names from the server. The completers below are
// attached by command path, so the command files need not know about them;
// TestCompletionPaths fails when a path names no command.

// completeTimeout bounds one completion's requests: a shell waits on it.
const completeTimeout = 2 * time.Second

// lister returns the candidates for one argument: the names the server
// knows (filtered by prefix afterwards). args are the arguments before it.
type lister func(ctx context.Context, c *client.Client, args []string, toComplete string) ([]string, error)

// argCompleters complete positional arguments, one lister per position.
var argCompleters = map[string][]lister{
	"models show":         {modelRefs},
	"models versions":     {modelNames},
	"models share":        {modelNames},
	"models update":       {modelNames},
	"models delete":       {modelNames},
	"models history":      {modelNames},
	"models rollback":     {modelNames},
	"models import":       {modelNames},
	"models export":       {modelRefs},
	"models alias set":    {modelNames, modelAliases, modelVersions},
	"models alias remove": {modelNames, modelAliases},

	"notebooks history": {notebookNames},
	"notebooks show":    {notebookNames},
	"notebooks share":   {notebookNames},
	"notebooks delete":  {notebookNames},

	"lookups show":   {lookupNames},
	"lookups delete": {lookupNames},
	"lookups share":  {lookupNames},

	"containers start":  {containerNames},
	"containers stop":   {containerNames},
	"containers remove": {containerNames},
	"containers logs":   {containerNames},
	"containers share":  {containerNames},

	"apps show":   {appNames},
	"apps update": {appNames},
	"apps delete": {appNames},

	"users set":          {userNames},
	"users delete":       {userNames},
	"roles delete":       {roleNames},
	"indexes delete":     {indexNames},
	"hec tokens delete":  {hecTokenNames},
	"hec tokens enable":  {hecTokenNames},
	"hec tokens disable": {hecTokenNames},

	"images show":              {imageNames},
	"images update":            {imageNames},
	"images remove":            {imageNames},
	"images allow":             {imageNames},
	"images save":              {imageNames},
	"images sign":              {imageNames},
	"images scan import":       {imageNames},
	"images exceptions list":   {imageNames},
	"images exceptions remove": {imageNames},
}

// flagCompleters complete flag values, by command path and flag name.
var flagCompleters = map[string]map[string]lister{
	"containers start":         {"model": modelRefs, "image": imageNames},
	"images exceptions remove": {"cve": imageExceptionCVEs},
	"containers register":      {"model": modelRefs},
	"models rollback":          {"to": modelVersions},
	"notebooks show":           {"version": notebookVersions},
}

// attachCompletions sets the completion functions of the tree under root:
// the listers above and, for the client flag --app, the app names. Call
// it once the tree is built and the client flags are attached.
func attachCompletions(root *cobra.Command, env *Env, g *globals) {
	appDone := false
	walk(root, func(cmd *cobra.Command) {
		path := commandPath(cmd)
		if ls, ok := argCompleters[path]; ok && cmd.ValidArgsFunction == nil {
			cmd.ValidArgsFunction = func(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
				if len(args) >= len(ls) {
					return nil, cobra.ShellCompDirectiveNoFileComp
				}
				return complete(cmd, env, g, ls[len(args)], args, toComplete)
			}
		}
		for flag, l := range flagCompleters[path] {
			cmd.RegisterFlagCompletionFunc(flag, func(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
				return complete(cmd, env, g, l, args, toComplete)
			})
		}
		// The client flags are shared by every client command, and so is
		// their completion: register it once.
		if !appDone && cmd.PersistentFlags().Lookup("app") != nil {
			appDone = cmd.RegisterFlagCompletionFunc("app", func(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
				return complete(cmd, env, g, appNames, args, toComplete)
			}) == nil
		}
	})
}

// complete runs l with the user's client and a short deadline. Any failure
// (no login, no server, no permission) completes nothing rather than
// printing an error into the user's command line.
func complete(cmd *cobra.Command, env *Env, g *globals, l lister, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	const fail = cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveError
	c, err := env.client(g)
	if err != nil {
		return nil, fail
	}
	ctx := cmd.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, cancel := context.WithTimeout(ctx, completeTimeout)
	defer cancel()
	names, err := l(ctx, c, args, toComplete)
	if err != nil {
		return nil, fail
	}
	var out []string
	for _, n := range names {
		if strings.HasPrefix(n, toComplete) && !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out, cobra.ShellCompDirectiveNoFileComp
}

// walk calls f on cmd and every command under it.
func walk(cmd *cobra.Command, f func(*cobra.Command)) {
	f(cmd)
	for _, sub := range cmd.Commands() {
		walk(sub, f)
	}
}

// commandPath is the command's path without the root's name: "models show".
func commandPath(cmd *cobra.Command) string {
	if !cmd.HasParent() {
		return ""
	}
	return strings.TrimPrefix(cmd.CommandPath(), cmd.Root().Name()+" ")
}

// maxCompleteModels bounds the model pages a completion reads.
const maxCompleteModels = 1000

// modelNames lists the models the caller may read: NAME, or APP:NAME when
// toComplete names an app.
func modelNames(ctx context.Context, c *client.Client, _ []string, toComplete string) ([]string, error) {
	app, _, qualified := strings.Cut(toComplete, ":")
	f := client.ModelFilter{}
	if qualified {
		f.App = app
	}
	var out []string
	for {
		page, err := c.Models(ctx, f)
		if err != nil {
			return nil, err
		}
		for _, m := range page.Models {
			if qualified {
				out = append(out, m.App+":"+m.Name)
			} else {
				out = append(out, m.Name)
			}
		}
		if page.Next == "" || len(out) >= maxCompleteModels {
			return out, nil
		}
		f.After = page.Next
	}
}

// modelRefs is modelNames, and once toComplete holds MODEL@, the model's
// versions and aliases as MODEL@N and MODEL@ALIAS.
func modelRefs(ctx context.Context, c *client.Client, args []string, toComplete string) ([]string, error) {
	model, _, versioned := strings.Cut(toComplete, "@")
	if !versioned {
		return modelNames(ctx, c, args, toComplete)
	}
	vs, err := modelVersions(ctx, c, []string{model}, "")
	if err != nil {
		return nil, err
	}
	as, err := modelAliases(ctx, c, []string{model}, "")
	if err != nil {
		return nil, err
	}
	var out []string
	for _, v := range append(as, vs...) {
		out = append(out, model+"@"+v)
	}
	return out, nil
}

// modelVersions lists the version numbers of the model args[0] names.
func modelVersions(ctx context.Context, c *client.Client, args []string, _ string) ([]string, error) {
	if len(args) == 0 {
		return nil, nil
	}
	vs, err := c.ModelVersions(ctx, args[0])
	return names(vs, err, func(v wire.ModelVersion) string { return strconv.Itoa(v.Version) })
}

// modelAliases lists the aliases of the model args[0] names.
func modelAliases(ctx context.Context, c *client.Client, args []string, _ string) ([]string, error) {
	if len(args) == 0 {
		return nil, nil
	}
	s, err := c.Model(ctx, args[0])
	if err != nil {
		return nil, err
	}
	var out []string
	for a := range s.Aliases {
		out = append(out, a)
	}
	return out, nil
}

// Listers of the names a listing returns.
var (
	notebookNames  = listed((*client.Client).Notebooks, func(v wire.Notebook) string { return v.Name })
	lookupNames    = listed((*client.Client).Lookups, func(v wire.Lookup) string { return v.Name })
	containerNames = listed((*client.Client).Containers, func(v wire.Container) string { return v.Name })
	appNames       = listed((*client.Client).Apps, func(v wire.App) string { return v.Name })
	userNames      = listed((*client.Client).Users, func(v wire.User) string { return v.Name })
	roleNames      = listed((*client.Client).Roles, func(v wire.Role) string { return v.Name })
	indexNames     = listed((*client.Client).Indexes, func(v wire.Index) string { return v.Name })
	hecTokenNames  = listed((*client.Client).HECTokens, func(v wire.HECToken) string { return v.Name })
	imageNames     = listed((*client.Client).Images, func(v wire.Image) string { return v.Name })
)

// imageExceptionCVEs lists the CVEs of the exceptions of the image args[0]
// names.
func imageExceptionCVEs(ctx context.Context, c *client.Client, args []string, _ string) ([]string, error) {
	if len(args) == 0 {
		return nil, nil
	}
	l, err := c.ImageExceptions(ctx, args[0])
	return names(l, err, func(x wire.ImageException) string { return x.CVE })
}

// listed is the lister of the names list returns.
func listed[T any](list func(*client.Client, context.Context) ([]T, error), name func(T) string) lister {
	return func(ctx context.Context, c *client.Client, _ []string, _ string) ([]string, error) {
		l, err := list(c, ctx)
		return names(l, err, name)
	}
}

// notebookVersions lists the versions of the notebook args[0] names.
func notebookVersions(ctx context.Context, c *client.Client, args []string, _ string) ([]string, error) {
	if len(args) == 0 {
		return nil, nil
	}
	l, err := c.NotebookHistory(ctx, args[0])
	return names(l, err, func(v wire.NotebookVersion) string { return strconv.Itoa(v.Version) })
}

// names maps a listing to its names, passing an error through.
func names[T any](list []T, err error, name func(T) string) ([]string, error) {
	if err != nil {
		return nil, err
	}
	out := make([]string, len(list))
	for i, v := range list {
		out[i] = name(v)
	}
	return out, nil
}
