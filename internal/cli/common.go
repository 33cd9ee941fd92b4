package cli

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/dockyard/dockyard/internal/client"
	"github.com/dockyard/dockyard/internal/errdefs"
)

// The builders here are the shapes most client commands share.

// runFunc is what a client command does once it has a client.
type runFunc func(cmd *cobra.Command, args []string, c *client.Client) error

// withClient is a RunE that builds the API client and runs fn with it.
func (env *Env) withClient(g *globals, fn runFunc) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		c, err := env.client(g)
		if err != nil {
			return err
		}
		return fn(cmd, args, c)
	}
}

// fetch is a RunE that gets one answer with the client and prints it: the
// answer itself with -o json or yaml, else tbl of it.
func fetch[T any](env *Env, g *globals, get func(cmd *cobra.Command, args []string, c *client.Client) (T, error), tbl func(T) *table) func(*cobra.Command, []string) error {
	return env.withClient(g, func(cmd *cobra.Command, args []string, c *client.Client) error {
		v, err := get(cmd, args, c)
		if err != nil {
			return err
		}
		return env.print(g, v, tbl(v))
	})
}

// one makes a table of one answer from the table of a list.
func one[T any](tbl func([]T) *table) func(T) *table {
	return func(v T) *table { return tbl([]T{v}) }
}

// deleteSpec describes a command that deletes one named object.
type deleteSpec struct {
	use, short string // the command's Use and Short
	argWhat    string // what the argument is, for the usage error: "the user's NAME"
	noun       string // "user": asks "Delete user NAME?", says "Deleted user NAME."
	more       string // said after the name, e.g. " and its events"
	remove     bool   // the verb is remove, not delete
	del        func(cmd *cobra.Command, c *client.Client, name string) error
}

// deleteCmd builds a delete command: it asks on a terminal and takes --yes
// (-y); off a terminal it needs --yes. With -o json or yaml it prints
// {"deleted": NAME} (or "removed").
func (env *Env) deleteCmd(g *globals, s deleteSpec) *cobra.Command {
	verb := "delete"
	if s.remove {
		verb = "remove"
	}
	var yes bool
	cmd := &cobra.Command{
		Use: s.use, Short: s.short, Args: needArgs(1, s.argWhat),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := args[0]
			if err := env.confirm(cmd, yes, fmt.Sprintf("%s %s %s%s", upperFirst(verb), s.noun, name, s.more)); err != nil {
				return err
			}
			c, err := env.client(g)
			if err != nil {
				return err
			}
			if err := s.del(cmd, c, name); err != nil {
				return err
			}
			return env.say(g, map[string]string{verb + "d": name}, "%sd %s %s%s.", upperFirst(verb), s.noun, name, s.more)
		},
	}
	yesFlag(cmd, &yes)
	return cmd
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// writeFileAtomic writes file (owner-only, 0600) through a temporary file
// beside it, renamed into place only when write, and check if given, have
// succeeded: a failed download never leaves a short file that looks whole.
func writeFileAtomic(file string, write func(w io.Writer) error, check func(f *os.File) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(file), "."+filepath.Base(file)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	err = write(tmp)
	if err == nil {
		err = tmp.Sync()
	}
	if err == nil && check != nil {
		if _, err = tmp.Seek(0, io.SeekStart); err == nil {
			err = check(tmp)
		}
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return os.Rename(tmp.Name(), file)
}

// inputFile is the file a command reads: --file FILE, or FILE as its one
// argument (the older form). what names it in the usage error.
func inputFile(cmd *cobra.Command, file string, args []string, what string) (string, error) {
	switch {
	case file != "" && len(args) > 0:
		return "", usagef("%s takes the file once: --file %s or %s, not both", cmd.CommandPath(), file, args[0])
	case file != "":
		return file, nil
	case len(args) == 1:
		return args[0], nil
	}
	return "", usagef("%s needs --file %s (see `%s --help`)", cmd.CommandPath(), what, cmd.CommandPath())
}

// caFlagPEM reads the PEM file a command's --ca-file names ("" when none).
func caFlagPEM(path string) (string, error) {
	if path == "" {
		return "", nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", errdefs.Invalidf("--ca-file: %w", err)
	}
	return string(b), nil
}

// fileFlag adds --file to a command that reads a file.
func fileFlag(cmd *cobra.Command, file *string, usage string) {
	cmd.Flags().StringVar(file, "file", "", usage)
}

// shared is what a share command reports of the object it shared.
type shared struct {
	name, app, sharing string
	read, write        []string
}

// shareCmd builds `NOUNS share NAME --sharing ... [--read ...] [--write ...]`.
func shareCmd[T any](env *Env, g *globals, noun, short, writeUsage string,
	share func(cmd *cobra.Command, c *client.Client, name, sharing string, read, write []string) (T, error),
	report func(T) shared) *cobra.Command {
	var sharing, read, write string
	cmd := &cobra.Command{
		Use:   "share NAME --sharing user|app|global [--read R1,R2] [--write R1]",
		Short: short,
		Args:  needArgs(1, "the "+noun+" NAME"),
		RunE: env.withClient(g, func(cmd *cobra.Command, args []string, c *client.Client) error {
			if sharing == "" {
				return usagef("%s needs --sharing user, app or global", cmd.CommandPath())
			}
			v, err := share(cmd, c, args[0], sharing, nonNil(splitList(read)), nonNil(splitList(write)))
			if err != nil {
				return err
			}
			r := report(v)
			return env.say(g, v, "%s %s in app %s: sharing %s, read %s, write %s.", upperFirst(noun), r.name, r.app, r.sharing, joinList(r.read), joinList(r.write))
		}),
	}
	cmd.Flags().StringVar(&sharing, "sharing", "", "user (private), app or global")
	cmd.Flags().StringVar(&read, "read", "", "comma-separated roles that may read (empty: everyone it is shared with; * for every role)")
	cmd.Flags().StringVar(&write, "write", "", writeUsage)
	return cmd
}

// nonNil makes a nil list empty, so that JSON shows [] rather than null.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// group is a command that only groups its subcommands.
func group(use, short string, subs ...*cobra.Command) *cobra.Command {
	cmd := &cobra.Command{Use: use, Short: short}
	cmd.AddCommand(subs...)
	return cmd
}
