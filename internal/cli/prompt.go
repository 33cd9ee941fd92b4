package cli

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/dockyard/dockyard/internal/errdefs"
)

// terminalFD returns the file descriptor of s when s is a terminal.
// /dev/null, files and pipes are not terminals (a character device such as
// /dev/null is not enough: the descriptor must answer terminal ioctls).
func terminalFD(s any) (int, bool) {
	f, ok := s.(*os.File)
	if !ok || f == nil {
		return 0, false
	}
	fd := int(f.Fd())
	return fd, term.IsTerminal(fd)
}

// isTerminal reports whether w is a terminal.
func isTerminal(s any) bool {
	_, ok := terminalFD(s)
	return ok
}

// yesFlag adds --yes (-y) to a command that deletes.
func yesFlag(cmd *cobra.Command, yes *bool) {
	cmd.Flags().BoolVarP(yes, "yes", "y", false, "do not ask for confirmation (needed when standard input is not a terminal)")
}

// confirm asks on the terminal before something is deleted; off a terminal
// it needs --yes. question is what is asked, e.g. "Delete model churn".
func (env *Env) confirm(cmd *cobra.Command, yes bool, question string) error {
	if yes {
		return nil
	}
	if !isTerminal(env.Stdin) {
		return usagef("%s asks before it deletes, but standard input is not a terminal: pass --yes to delete without asking",
			cmd.CommandPath())
	}
	fmt.Fprintf(env.Stderr, "%s? [y/N] ", question)
	line, err := bufio.NewReader(env.Stdin).ReadString('\n')
	if err != nil && err != io.EOF {
		return err
	}
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes":
		return nil
	}
	return fmt.Errorf("not confirmed: nothing was deleted")
}

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

// password gets a password: from standard input with --password-stdin, else
// by a hidden prompt on the terminal (twice when twice is set, for a new
// password). Off a terminal, without --password-stdin, it is a usage error.
func (env *Env) password(cmd *cobra.Command, fromStdin bool, prompt string, twice bool) (string, error) {
	if fromStdin {
		return readPassword(env.Stdin)
	}
	fd, ok := terminalFD(env.Stdin)
	if !ok {
		return "", usagef("%s needs a password: pass --password-stdin and pipe it in "+
			"(standard input is not a terminal, so it cannot be asked for)", cmd.CommandPath())
	}
	ask := func(p string) (string, error) {
		fmt.Fprint(env.Stderr, p+": ")
		b, err := term.ReadPassword(fd)
		fmt.Fprintln(env.Stderr)
		return string(b), err
	}
	pw, err := ask(prompt)
	if err != nil {
		return "", fmt.Errorf("reading the password: %w", err)
	}
	if pw == "" {
		return "", errdefs.Invalid("no password given")
	}
	if twice {
		again, err := ask("Repeat it")
		if err != nil {
			return "", fmt.Errorf("reading the password: %w", err)
		}
		if again != pw {
			return "", errdefs.Invalid("the two passwords differ; nothing was changed")
		}
	}
	return pw, nil
}
