package cli

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/dockyard/dockyard/internal/server/servertest"
)

// openPTY opens a pseudo-terminal: the program side (slave), a terminal,
// and the side a test types into (master).
func openPTY(t *testing.T) (master, slave *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminal here (%v): the terminal cases cannot run", err)
	}
	t.Cleanup(func() { m.Close() })
	if err := unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Skipf("cannot unlock the pseudo-terminal: %v", err)
	}
	n, err := unix.IoctlGetInt(int(m.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Skipf("no pseudo-terminal number: %v", err)
	}
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("cannot open the pseudo-terminal's other side: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return m, s
}

// TestTerminalCheck: only a real terminal is one; /dev/null (a character
// device) and a pipe are not.
func TestTerminalCheck(t *testing.T) {
	if isTerminal(devNull(t)) {
		t.Error("/dev/null is taken for a terminal")
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	if isTerminal(r) || isTerminal(w) {
		t.Error("a pipe is taken for a terminal")
	}
	if isTerminal(&bytes.Buffer{}) || isTerminal(nil) {
		t.Error("a buffer is taken for a terminal")
	}
	_, slave := openPTY(t)
	if !isTerminal(slave) {
		t.Error("a pseudo-terminal is not taken for a terminal")
	}
}

// ttyRun runs the CLI with a terminal as standard input; typed is what the
// user types into it.
func ttyRun(t *testing.T, vars map[string]string, typed string, args ...string) (string, string, int) {
	t.Helper()
	master, slave := openPTY(t)
	if _, err := master.WriteString(typed); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	env := &Env{Stdin: slave, Stdout: &out, Stderr: &errb,
		Getenv: func(k string) string { return vars[k] }, Environ: func() []string { return nil }}
	code := env.Run(t.Context(), args)
	return out.String(), errb.String(), code
}

// TestDeleteConfirmation: a delete asks on a terminal, and off one needs
// --yes.
func TestDeleteConfirmation(t *testing.T) {
	h := servertest.Start(t)
	admin := loginVars(t, h, "admin", servertest.AdminPassword)
	for _, ix := range []string{"a", "b", "c"} {
		if _, e, code := run(t, admin, "", "indexes", "create", ix); code != 0 {
			t.Fatalf("indexes create %s: %s", ix, e)
		}
	}
	exists := func(ix string) bool {
		out, _, _ := run(t, admin, "", "indexes", "list", "-o", "csv")
		return strings.Contains(out, "\n"+ix+",")
	}

	// Off a terminal: /dev/null and a pipe refuse without --yes.
	if _, e, code := mainRun(t, admin, devNull(t), "indexes", "delete", "a"); code != ExitUsage || !strings.Contains(e, "pass --yes") {
		t.Errorf("delete with /dev/null as stdin: exit %d, %s", code, e)
	}
	r, w, _ := os.Pipe()
	w.WriteString("y\n")
	w.Close()
	_, e, code := mainRun(t, admin, r, "indexes", "delete", "a")
	r.Close()
	if code != ExitUsage || !strings.Contains(e, "pass --yes") || !exists("a") {
		t.Errorf("delete with a pipe as stdin: exit %d, %s", code, e)
	}

	// On a terminal: "n" keeps it, "y" deletes it, --yes does not ask.
	_, e, code = ttyRun(t, admin, "n\n", "indexes", "delete", "a")
	if code != ExitError || !strings.Contains(e, "Delete index a and its events? [y/N]") || !strings.Contains(e, "nothing was deleted") || !exists("a") {
		t.Errorf("answer n: exit %d, %s", code, e)
	}
	out, e, code := ttyRun(t, admin, "y\n", "indexes", "delete", "a")
	if code != 0 || !strings.Contains(out, "Deleted index a") || exists("a") {
		t.Errorf("answer y: exit %d, %s %s", code, out, e)
	}
	out, e, code = ttyRun(t, admin, "", "indexes", "delete", "b", "--yes")
	if code != 0 || strings.Contains(e, "[y/N]") || exists("b") {
		t.Errorf("--yes on a terminal: exit %d, %s %s", code, out, e)
	}
	if _, e, code := run(t, admin, "", "indexes", "delete", "c", "-y"); code != 0 || exists("c") {
		t.Errorf("-y off a terminal: exit %d, %s", code, e)
	}
}

// TestPasswordPrompt: without --password-stdin the password is asked for on
// a terminal, hidden; off a terminal the error says to use --password-stdin.
func TestPasswordPrompt(t *testing.T) {
	h := servertest.Start(t)
	vars := map[string]string{"DOCKYARD_SERVER": h.Srv.URL(), "DOCKYARD_CA_FILE": h.Srv.CAFile(), "DOCKYARD_CONFIG_DIR": t.TempDir()}

	_, e, code := mainRun(t, vars, devNull(t), "login", "--user", "admin")
	if code != ExitUsage || !strings.Contains(e, "--password-stdin") {
		t.Errorf("login off a terminal: exit %d, %s", code, e)
	}
	_, e, code = ttyRun(t, vars, "wrong-password\n", "login", "--user", "admin")
	if code != ExitDenied || !strings.Contains(e, "Password for admin at "+h.Srv.URL()) {
		t.Errorf("login with a wrong password: exit %d, %s", code, e)
	}
	out, e, code := ttyRun(t, vars, servertest.AdminPassword+"\n", "login", "--user", "admin")
	if code != 0 || !strings.Contains(out, "Logged in") {
		t.Fatalf("login on a terminal: exit %d, %s %s", code, out, e)
	}

	// A new password is asked for twice.
	_, e, code = ttyRun(t, vars, "carol-password-1\ncarol-password-2\n", "users", "add", "carol")
	if code != ExitError || !strings.Contains(e, "differ") {
		t.Errorf("users add, passwords differ: exit %d, %s", code, e)
	}
	if _, e, code := ttyRun(t, vars, "carol-password-1\ncarol-password-1\n", "users", "add", "carol"); code != 0 {
		t.Fatalf("users add on a terminal: exit %d, %s", code, e)
	}
	if _, e, code := ttyRun(t, vars, "carol-password-2\ncarol-password-2\n", "users", "set", "carol", "--prompt-password"); code != 0 {
		t.Fatalf("users set --prompt-password: exit %d, %s", code, e)
	}
	if _, e, code := mainRun(t, vars, devNull(t), "users", "set", "carol", "--prompt-password"); code != ExitUsage || !strings.Contains(e, "--password-stdin") {
		t.Errorf("users set --prompt-password off a terminal: exit %d, %s", code, e)
	}
	if _, e, code := run(t, vars, "", "users", "set", "carol"); code != ExitUsage || !strings.Contains(e, "changes nothing") {
		t.Errorf("users set without flags: exit %d, %s", code, e)
	}
	carol := map[string]string{"DOCKYARD_SERVER": h.Srv.URL(), "DOCKYARD_CA_FILE": h.Srv.CAFile(), "DOCKYARD_CONFIG_DIR": t.TempDir()}
	if _, e, code := run(t, carol, "carol-password-2\n", "login", "--user", "carol", "--password-stdin"); code != 0 {
		t.Errorf("carol logs in with the password set at the prompt: %s", e)
	}
}
