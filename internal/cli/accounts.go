package cli

import (
	"fmt"
	"slices"
	"time"

	"github.com/spf13/cobra"

	"github.com/dockyard/dockyard/internal/client"
	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/wire"
)

func newLoginCmd(env *Env, g *globals) *cobra.Command {
	var user string
	var stdin bool
	cmd := &cobra.Command{
		Use:   "login --user NAME [--password-stdin]",
		Short: "Log in and keep a session token in the config dir",
		Long: "Log in and keep a session token in the config dir. The password is read from standard input\n" +
			"with --password-stdin, else asked for on the terminal (hidden).",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if user == "" {
				return usagef("login needs --user NAME")
			}
			c, err := env.client(g)
			if err != nil {
				return err
			}
			pw, err := env.password(cmd, stdin, fmt.Sprintf("Password for %s at %s", user, c.Server()), false)
			if err != nil {
				return err
			}
			c.SetToken("")
			res, err := c.Login(cmd.Context(), user, pw)
			if err != nil {
				return err
			}
			creds := credentials{
				Server: c.Server(), User: res.User, Token: res.Token,
				CAFile: env.setting(g.caFile, "DOCKYARD_CA_FILE", ""),
			}
			if err := saveCredentials(env.configDir(g), creds); err != nil {
				return fmt.Errorf("logged in, but could not save the token: %w", err)
			}
			return env.say(g, map[string]any{"user": res.User, "expires": res.Expires},
				"Logged in to %s as %s (session expires %s).", c.Server(), res.User, fmtTime(res.Expires))
		},
	}
	cmd.Flags().StringVar(&user, "user", "", "user name")
	passwordStdinFlag(cmd, &stdin)
	return cmd
}

// passwordStdinFlag adds --password-stdin; without it the password is asked
// for on the terminal.
func passwordStdinFlag(cmd *cobra.Command, stdin *bool) {
	cmd.Flags().BoolVar(stdin, "password-stdin", false, "read the password from standard input (default: ask on the terminal)")
}

func newLogoutCmd(env *Env, g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "logout",
		Short: "Revoke the saved session token and forget it",
		Args:  cobra.NoArgs,
		RunE: env.withClient(g, func(cmd *cobra.Command, _ []string, c *client.Client) error {
			if err := c.Logout(cmd.Context()); err != nil {
				return err
			}
			dir := env.configDir(g)
			if creds, err := loadCredentials(dir); err == nil {
				creds.Token = ""
				saveCredentials(dir, creds)
			}
			fmt.Fprintln(env.Stdout, "Logged out.")
			return nil
		}),
	}
}

func newWhoamiCmd(env *Env, g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "whoami",
		Short: "Show who you are logged in as, your roles and capabilities",
		Args:  cobra.NoArgs,
		RunE: fetch(env, g, func(cmd *cobra.Command, _ []string, c *client.Client) (wire.Whoami, error) {
			return c.Whoami(cmd.Context())
		}, func(w wire.Whoami) *table {
			t := &table{header: []string{"user", "roles", "default_app", "capabilities"}}
			t.add(w.User, joinList(w.Roles), w.DefaultApp, joinList(w.Capabilities))
			return t
		}),
	}
}

func newUsersCmd(env *Env, g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "users", Short: "Manage user accounts (needs edit_user)"}
	var roles, app string
	var stdin bool
	add := &cobra.Command{
		Use:     "add NAME --roles R1,R2 [--password-stdin] [--default-app APP]",
		Aliases: []string{"create"},
		Short:   "Create a user (the password from standard input, or asked for on the terminal)",
		Args:    needArgs(1, "the new user's NAME"),
		RunE: env.withClient(g, func(cmd *cobra.Command, args []string, c *client.Client) error {
			pw, err := env.password(cmd, stdin, "Password for the new user "+args[0], true)
			if err != nil {
				return err
			}
			rs := splitList(roles)
			req := wire.UserRequest{Name: args[0], Password: &pw, Roles: &rs}
			if app != "" {
				req.DefaultApp = &app
			}
			u, err := c.AddUser(cmd.Context(), req)
			if err != nil {
				return err
			}
			return env.print(g, u, usersTable([]wire.User{u}))
		}),
	}
	add.Flags().StringVar(&roles, "roles", "user", "comma-separated roles")
	add.Flags().StringVar(&app, "default-app", "", "the user's default app")
	passwordStdinFlag(add, &stdin)

	list := &cobra.Command{
		Use: "list", Short: "List users", Args: cobra.NoArgs,
		RunE: fetch(env, g, func(cmd *cobra.Command, _ []string, c *client.Client) ([]wire.User, error) {
			return c.Users(cmd.Context())
		}, usersTable),
	}
	var setRoles string
	var setPw, promptPw bool
	set := &cobra.Command{
		Use:   "set NAME [--roles R1,R2] [--password-stdin | --prompt-password] [--default-app APP]",
		Short: "Change a user's roles, password or default app",
		Args:  needArgs(1, "the user's NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			var req wire.UserRequest
			if cmd.Flags().Changed("roles") {
				rs := splitList(setRoles)
				req.Roles = &rs
			}
			if cmd.Flags().Changed("default-app") {
				req.DefaultApp = &app
			}
			if setPw && promptPw {
				return usagef("pass --password-stdin or --prompt-password, not both")
			}
			if setPw || promptPw {
				pw, err := env.password(cmd, setPw, "New password for "+args[0], true)
				if err != nil {
					return err
				}
				req.Password = &pw
			}
			if req == (wire.UserRequest{}) {
				return usagef("users set changes nothing: pass --roles, --default-app, --password-stdin or --prompt-password")
			}
			c, err := env.client(g)
			if err != nil {
				return err
			}
			u, err := c.UpdateUser(cmd.Context(), args[0], req)
			if err != nil {
				return err
			}
			return env.print(g, u, usersTable([]wire.User{u}))
		},
	}
	set.Flags().StringVar(&setRoles, "roles", "", "comma-separated roles (replaces the list)")
	set.Flags().StringVar(&app, "default-app", "", "the user's default app")
	set.Flags().BoolVar(&setPw, "password-stdin", false, "read a new password from standard input")
	set.Flags().BoolVar(&promptPw, "prompt-password", false, "ask for a new password on the terminal (hidden, twice)")
	del := env.deleteCmd(g, deleteSpec{
		use: "delete NAME", short: "Delete a user and revoke their tokens", argWhat: "the user's NAME", noun: "user",
		del: func(cmd *cobra.Command, c *client.Client, name string) error {
			return c.DeleteUser(cmd.Context(), name)
		},
	})
	cmd.AddCommand(add, list, set, del)
	return cmd
}

func usersTable(us []wire.User) *table {
	t := &table{header: []string{"name", "roles", "default_app", "created"}}
	for _, u := range us {
		t.add(u.Name, joinList(u.Roles), u.DefaultApp, fmtTime(u.Created))
	}
	return t
}

func newRolesCmd(env *Env, g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "roles", Short: "Manage roles (needs edit_roles)"}
	var caps, inherit, indexes string
	add := &cobra.Command{
		Use:     "add NAME --capabilities C1,C2 [--inherit R1,R2] [--indexes I1,I2]",
		Aliases: []string{"create"},
		Short:   "Create a role",
		Args:    needArgs(1, "the new role's NAME"),
		RunE: fetch(env, g, func(cmd *cobra.Command, args []string, c *client.Client) (wire.Role, error) {
			return c.AddRole(cmd.Context(), wire.RoleRequest{
				Name: args[0], Capabilities: splitList(caps), Inherit: splitList(inherit), SearchIndexes: splitList(indexes),
			})
		}, one(rolesTable)),
	}
	add.Flags().StringVar(&caps, "capabilities", "", "comma-separated capabilities")
	add.Flags().StringVar(&inherit, "inherit", "", "comma-separated roles to inherit from")
	add.Flags().StringVar(&indexes, "indexes", "", "comma-separated event indexes members may search")
	list := &cobra.Command{
		Use: "list", Short: "List roles", Args: cobra.NoArgs,
		RunE: fetch(env, g, func(cmd *cobra.Command, _ []string, c *client.Client) ([]wire.Role, error) {
			return c.Roles(cmd.Context())
		}, rolesTable),
	}
	var setCaps, setInherit, setIndexes string
	set := &cobra.Command{
		Use:   "set NAME [--capabilities C1,C2] [--inherit R1,R2] [--indexes I1,I2]",
		Short: "Change a role: each list given replaces the role's (an empty one clears it); the others stay",
		Args:  needArgs(1, "the role's NAME"),
		RunE: fetch(env, g, func(cmd *cobra.Command, args []string, c *client.Client) (wire.Role, error) {
			rs, err := c.Roles(cmd.Context())
			if err != nil {
				return wire.Role{}, err
			}
			i := slices.IndexFunc(rs, func(r wire.Role) bool { return r.Name == args[0] })
			if i < 0 {
				return wire.Role{}, errdefs.NotFoundf("role %q not found: `dockyard roles list` shows the roles", args[0])
			}
			req := wire.RoleRequest{Name: args[0], Capabilities: rs[i].Capabilities, Inherit: rs[i].Inherit, SearchIndexes: rs[i].SearchIndexes}
			if cmd.Flags().Changed("capabilities") {
				req.Capabilities = splitList(setCaps)
			}
			if cmd.Flags().Changed("inherit") {
				req.Inherit = splitList(setInherit)
			}
			if cmd.Flags().Changed("indexes") {
				req.SearchIndexes = splitList(setIndexes)
			}
			return c.UpdateRole(cmd.Context(), args[0], req)
		}, one(rolesTable)),
	}
	set.Flags().StringVar(&setCaps, "capabilities", "", "comma-separated capabilities (replaces the list)")
	set.Flags().StringVar(&setInherit, "inherit", "", "comma-separated roles to inherit from (replaces the list)")
	set.Flags().StringVar(&setIndexes, "indexes", "", "comma-separated event indexes members may search (replaces the list)")
	del := env.deleteCmd(g, deleteSpec{
		use: "delete NAME", short: "Delete a role", argWhat: "the role's NAME", noun: "role",
		del: func(cmd *cobra.Command, c *client.Client, name string) error {
			return c.DeleteRole(cmd.Context(), name)
		},
	})
	cmd.AddCommand(add, list, set, del)
	return cmd
}

func rolesTable(rs []wire.Role) *table {
	t := &table{header: []string{"name", "capabilities", "inherit", "indexes", "builtin"}}
	for _, r := range rs {
		t.add(r.Name, joinList(r.Capabilities), joinList(r.Inherit), joinList(r.SearchIndexes), fmt.Sprint(r.Builtin))
	}
	return t
}

func newTokensCmd(env *Env, g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "tokens", Short: "Manage API tokens"}
	var name, expires string
	create := &cobra.Command{
		Use:   "create --name NAME [--expires 720h]",
		Short: "Create an API token; its secret is printed once",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if name == "" {
				return usagef("tokens create needs --name NAME")
			}
			if expires != "" {
				if _, err := time.ParseDuration(expires); err != nil {
					return errdefs.Invalidf("--expires %q is not a duration such as 720h", expires)
				}
			}
			c, err := env.client(g)
			if err != nil {
				return err
			}
			tok, err := c.CreateToken(cmd.Context(), wire.TokenRequest{Name: name, Expires: expires})
			if err != nil {
				return err
			}
			return env.say(g, tok, "Token %s (id %s), expires %s. It is shown only now:\n%s", tok.Name, tok.ID, fmtTimePtr(tok.Expires), tok.Token)
		},
	}
	create.Flags().StringVar(&name, "name", "", "a name for the token")
	create.Flags().StringVar(&expires, "expires", "", "lifetime, e.g. 720h (default: the server's maximum)")
	var all bool
	list := &cobra.Command{
		Use: "list [--all]", Short: "List your API tokens (never their secrets)", Args: cobra.NoArgs,
		RunE: fetch(env, g, func(cmd *cobra.Command, _ []string, c *client.Client) ([]wire.Token, error) {
			return c.Tokens(cmd.Context(), all)
		}, tokensTable),
	}
	list.Flags().BoolVar(&all, "all", false, "everybody's tokens (needs edit_tokens_all)")
	revoke := &cobra.Command{
		Use: "revoke ID", Short: "Revoke a token", Args: needArgs(1, "the token ID"),
		RunE: env.withClient(g, func(cmd *cobra.Command, args []string, c *client.Client) error {
			if err := c.RevokeToken(cmd.Context(), args[0]); err != nil {
				return err
			}
			return env.say(g, map[string]string{"revoked": args[0]}, "Revoked token %s.", args[0])
		}),
	}
	cmd.AddCommand(create, list, revoke)
	return cmd
}

func tokensTable(ts []wire.Token) *table {
	t := &table{header: []string{"id", "name", "user", "kind", "created", "expires", "last_used", "revoked"}}
	for _, k := range ts {
		t.add(k.ID, k.Name, k.User, k.Kind, fmtTime(k.Created), fmtTimePtr(k.Expires), fmtTimePtr(k.LastUsed), fmt.Sprint(k.Revoked))
	}
	return t
}
