package cli

import (
	"bufio"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/wire"
)

// readPassword reads one line from stdin (for --password-stdin).
func readPassword(r io.Reader) (string, error) {
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil && err != io.EOF {
		return "", err
	}
	pw := strings.TrimRight(line, "\r\n")
	if pw == "" {
		return "", errdefs.Invalid("no password on standard input: pipe it in, e.g. `echo \"$PW\" | dockyard ... --password-stdin`")
	}
	return pw, nil
}

func newLoginCmd(env *Env, g *globals) *cobra.Command {
	var user string
	var stdin bool
	cmd := &cobra.Command{
		Use:   "login --user NAME --password-stdin",
		Short: "Log in and keep a session token in the config dir",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if user == "" {
				return errdefs.Invalid("login needs --user NAME")
			}
			if !stdin {
				return errdefs.Invalid("login reads the password from standard input only: pass --password-stdin")
			}
			pw, err := readPassword(env.Stdin)
			if err != nil {
				return err
			}
			c, err := env.client(g)
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
			if g.output == "json" {
				return env.print(g, map[string]any{"user": res.User, "expires": res.Expires}, nil)
			}
			fmt.Fprintf(env.Stdout, "Logged in to %s as %s (session expires %s).\n", c.Server(), res.User, fmtTime(res.Expires))
			return nil
		},
	}
	cmd.Flags().StringVar(&user, "user", "", "user name")
	cmd.Flags().BoolVar(&stdin, "password-stdin", false, "read the password from standard input")
	return cmd
}

func newLogoutCmd(env *Env, g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "logout",
		Short: "Revoke the saved session token and forget it",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := env.client(g)
			if err != nil {
				return err
			}
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
		},
	}
}

func newWhoamiCmd(env *Env, g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "whoami",
		Short: "Show who you are logged in as, your roles and capabilities",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := env.client(g)
			if err != nil {
				return err
			}
			w, err := c.Whoami(cmd.Context())
			if err != nil {
				return err
			}
			t := &table{header: []string{"user", "roles", "default_app", "capabilities"}}
			t.add(w.User, joinList(w.Roles), w.DefaultApp, joinList(w.Capabilities))
			return env.print(g, w, t)
		},
	}
}

func newUsersCmd(env *Env, g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "users", Short: "Manage user accounts (needs edit_user)"}
	var roles, app string
	var stdin bool
	add := &cobra.Command{
		Use:   "add NAME --roles R1,R2 --password-stdin [--default-app APP]",
		Short: "Create a user",
		Args:  needArgs(1, "the new user's NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !stdin {
				return errdefs.Invalid("users add reads the password from standard input only: pass --password-stdin")
			}
			pw, err := readPassword(env.Stdin)
			if err != nil {
				return err
			}
			c, err := env.client(g)
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
		},
	}
	add.Flags().StringVar(&roles, "roles", "user", "comma-separated roles")
	add.Flags().StringVar(&app, "default-app", "", "the user's default app")
	add.Flags().BoolVar(&stdin, "password-stdin", false, "read the password from standard input")

	list := &cobra.Command{
		Use: "list", Short: "List users", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := env.client(g)
			if err != nil {
				return err
			}
			us, err := c.Users(cmd.Context())
			if err != nil {
				return err
			}
			return env.print(g, us, usersTable(us))
		},
	}
	var setRoles string
	var setPw bool
	set := &cobra.Command{
		Use:   "set NAME [--roles R1,R2] [--password-stdin] [--default-app APP]",
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
			if setPw {
				pw, err := readPassword(env.Stdin)
				if err != nil {
					return err
				}
				req.Password = &pw
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
	del := &cobra.Command{
		Use: "delete NAME", Short: "Delete a user and revoke their tokens", Args: needArgs(1, "the user's NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := env.client(g)
			if err != nil {
				return err
			}
			if err := c.DeleteUser(cmd.Context(), args[0]); err != nil {
				return err
			}
			fmt.Fprintf(env.Stdout, "Deleted user %s.\n", args[0])
			return nil
		},
	}
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
		Use:   "add NAME --capabilities C1,C2 [--inherit R1,R2] [--indexes I1,I2]",
		Short: "Create a role",
		Args:  needArgs(1, "the new role's NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := env.client(g)
			if err != nil {
				return err
			}
			r, err := c.AddRole(cmd.Context(), wire.RoleRequest{
				Name: args[0], Capabilities: splitList(caps), Inherit: splitList(inherit), SearchIndexes: splitList(indexes),
			})
			if err != nil {
				return err
			}
			return env.print(g, r, rolesTable([]wire.Role{r}))
		},
	}
	add.Flags().StringVar(&caps, "capabilities", "", "comma-separated capabilities")
	add.Flags().StringVar(&inherit, "inherit", "", "comma-separated roles to inherit from")
	add.Flags().StringVar(&indexes, "indexes", "", "comma-separated event indexes members may search")
	list := &cobra.Command{
		Use: "list", Short: "List roles", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := env.client(g)
			if err != nil {
				return err
			}
			rs, err := c.Roles(cmd.Context())
			if err != nil {
				return err
			}
			return env.print(g, rs, rolesTable(rs))
		},
	}
	del := &cobra.Command{
		Use: "delete NAME", Short: "Delete a role", Args: needArgs(1, "the role's NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := env.client(g)
			if err != nil {
				return err
			}
			if err := c.DeleteRole(cmd.Context(), args[0]); err != nil {
				return err
			}
			fmt.Fprintf(env.Stdout, "Deleted role %s.\n", args[0])
			return nil
		},
	}
	cmd.AddCommand(add, list, del)
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
				return errdefs.Invalid("tokens create needs --name NAME")
			}
			if expires != "" {
				if _, err := time.ParseDuration(expires); err != nil {
					return errdefs.Invalid(fmt.Sprintf("--expires %q is not a duration such as 720h", expires))
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
			if g.output == "json" {
				return env.print(g, tok, nil)
			}
			fmt.Fprintf(env.Stdout, "Token %s (id %s), expires %s. It is shown only now:\n%s\n", tok.Name, tok.ID, fmtTimePtr(tok.Expires), tok.Token)
			return nil
		},
	}
	create.Flags().StringVar(&name, "name", "", "a name for the token")
	create.Flags().StringVar(&expires, "expires", "", "lifetime, e.g. 720h (default: the server's maximum)")
	var all bool
	list := &cobra.Command{
		Use: "list [--all]", Short: "List your API tokens (never their secrets)", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := env.client(g)
			if err != nil {
				return err
			}
			ts, err := c.Tokens(cmd.Context(), all)
			if err != nil {
				return err
			}
			t := &table{header: []string{"id", "name", "user", "kind", "created", "expires", "last_used", "revoked"}}
			for _, k := range ts {
				t.add(k.ID, k.Name, k.User, k.Kind, fmtTime(k.Created), fmtTimePtr(k.Expires), fmtTimePtr(k.LastUsed), fmt.Sprint(k.Revoked))
			}
			return env.print(g, ts, t)
		},
	}
	list.Flags().BoolVar(&all, "all", false, "everybody's tokens (needs edit_tokens_all)")
	revoke := &cobra.Command{
		Use: "revoke ID", Short: "Revoke a token", Args: needArgs(1, "the token ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := env.client(g)
			if err != nil {
				return err
			}
			if err := c.RevokeToken(cmd.Context(), args[0]); err != nil {
				return err
			}
			fmt.Fprintf(env.Stdout, "Revoked token %s.\n", args[0])
			return nil
		},
	}
	cmd.AddCommand(create, list, revoke)
	return cmd
}
