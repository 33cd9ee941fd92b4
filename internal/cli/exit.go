package cli

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/dockyard/dockyard/internal/errdefs"
)

// The exit codes of every command, chosen from the kind of its error.
const (
	ExitOK       = 0 // success
	ExitError    = 1 // any other error
	ExitUsage    = 2 // the command line is wrong
	ExitNotFound = 3 // what was named does not exist (or is hidden from you)
	ExitDenied   = 4 // not logged in, or not allowed
	// ExitInterrupted is a command stopped by Ctrl-C or SIGTERM (128 +
	// SIGINT's number, as shells report an interrupted program).
	ExitInterrupted = 130
)

// ExitCodesHelp explains the exit codes; the root command's help ends with
// it, and docs/cli.md includes it.
const ExitCodesHelp = `Exit codes:
  0  success
  1  error: the message says what went wrong and what to do
  2  usage: an unknown command or flag, a wrong number of arguments, a missing
     or conflicting flag, or a delete off a terminal without --yes
  3  not found: the model, lookup, user or other object named does not exist,
     or you may not see it
  4  not authenticated (log in again) or forbidden (you lack a capability or
     permission)
  130  interrupted (Ctrl-C or SIGTERM) before it finished; a server or agent
     that shuts down cleanly on the signal exits 0`

// usageError is a command line that cannot run as written: exit code 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

// usagef returns a usage error; its message says how to call the command.
func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// exitCodeOf maps an error to the exit code its kind calls for.
func exitCodeOf(err error) int {
	var ue *usageError
	switch {
	case err == nil:
		return ExitOK
	case errors.As(err, &ue):
		return ExitUsage
	case errdefs.IsNotFound(err):
		return ExitNotFound
	case errdefs.IsUnauthenticated(err), errdefs.IsPermissionDenied(err):
		return ExitDenied
	}
	return ExitError
}

// usageChecks makes the tree report its usage errors as such: flag errors,
// argument-count errors, and an unknown subcommand (which cobra would
// otherwise answer with help and exit code 0).
func usageChecks(root *cobra.Command) {
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return usagef("%v (see `%s --help`)", err, cmd.CommandPath())
	})
	root.InitDefaultHelpCmd()
	for _, help := range root.Commands() {
		if help.Name() == "help" && help.Run != nil {
			show := help.Run
			help.RunE = func(cmd *cobra.Command, args []string) error {
				if topic, rest, err := root.Find(args); err != nil || topic == nil || len(rest) > 0 {
					return usagef("unknown help topic %q (see `%s --help`)", strings.Join(args, " "), root.CommandPath())
				}
				show(cmd, args)
				return nil
			}
		}
	}
	var walk func(*cobra.Command)
	walk = func(cmd *cobra.Command) {
		if cmd.HasSubCommands() && !cmd.Runnable() {
			cmd.Args = unknownSubcommand
			cmd.SuggestionsMinimumDistance = 2
			cmd.RunE = func(cmd *cobra.Command, _ []string) error { return cmd.Help() }
		} else if check := cmd.Args; check != nil {
			cmd.Args = func(cmd *cobra.Command, args []string) error {
				if err := check(cmd, args); err != nil {
					var ue *usageError
					if errors.As(err, &ue) {
						return err
					}
					return usagef("%v (see `%s --help`)", err, cmd.CommandPath())
				}
				return nil
			}
		}
		for _, c := range cmd.Commands() {
			walk(c)
		}
	}
	walk(root)
}

// unknownSubcommand is the Args check of a command that only groups others.
func unknownSubcommand(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	msg := fmt.Sprintf("unknown command %q for %q", args[0], cmd.CommandPath())
	if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
		msg += "; did you mean " + strings.Join(s, " or ") + "?"
	}
	return usagef("%s (see `%s --help`)", msg, cmd.CommandPath())
}
