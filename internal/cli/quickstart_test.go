package cli

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestMain lets the process runtime start this test binary as
// `dockyard agent`: the server runs os.Executable() with the agent's
// arguments, and DOCKYARD_TEST_MAIN=1 makes it act as the dockyard binary.
func TestMain(m *testing.M) {
	if os.Getenv("DOCKYARD_TEST_MAIN") == "1" {
		os.Exit(Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
	}
	os.Setenv("DOCKYARD_TEST_MAIN", "1")
	os.Exit(m.Run())
}

// TestQuickstart runs `dockyard quickstart` in-process on a fresh data dir:
// it trains the embedded example notebook in a process-runtime container
// with python3, applies it, summarises it and finds the audit event. It
// runs sandboxed (where bubblewrap is installed) and unsandboxed
// (containers.process.sandbox: off), which prints a warning.
func TestQuickstart(t *testing.T) {
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("python3 is not installed: the quickstart's notebook runs in it (apt-get install python3)")
	}
	t.Run("sandboxed", func(t *testing.T) {
		if _, err := os.Stat("/usr/bin/bwrap"); err != nil {
			t.Skip("bubblewrap is not installed (apt-get install bubblewrap)")
		}
		out, errOut := runQuickstartTest(t, map[string]string{"DOCKYARD_CONTAINERS_PROCESS_SANDBOX": "required"})
		if !strings.Contains(out, "Containers run in a bubblewrap sandbox") || strings.Contains(errOut, "warning: the process runtime") {
			t.Errorf("sandboxed quickstart does not say so:\nstdout:\n%s\nstderr:\n%s", out, errOut)
		}
	})
	t.Run("unsandboxed", func(t *testing.T) {
		out, errOut := runQuickstartTest(t, map[string]string{"DOCKYARD_CONTAINERS_PROCESS_SANDBOX": "off"})
		if !strings.Contains(errOut, "warning: the process runtime's sandbox is off") || !strings.Contains(errOut, "bubblewrap") ||
			strings.Contains(out, "Containers run in a bubblewrap sandbox") {
			t.Errorf("unsandboxed quickstart prints no warning naming bubblewrap:\nstdout:\n%s\nstderr:\n%s", out, errOut)
		}
	})
}

func runQuickstartTest(t *testing.T, vars map[string]string) (string, string) {
	t.Helper()
	// Exactly the README's first command: the default, relative data dir
	// ./dockyard-data, from a directory that is not the repository.
	t.Chdir(t.TempDir())
	vars["DOCKYARD_ADMIN_PASSWORD"] = "quickstart-test-password"
	out, errOut, code := run(t, vars, "", "quickstart")
	if code != 0 {
		t.Fatalf("quickstart exited %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	for _, want := range []string{
		"from the copy built into dockyard", // the test runs outside the repository root
		"registered app:QuickstartModel version 1",
		"150 rows came back with predicted_petal_width",
		"predicted",
		"notebook.intercept",
		"action=model.fit user=admin object=app:QuickstartModel",
		"Stopped your development container",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("quickstart output lacks %q:\n%s", want, out)
		}
	}
	return out, errOut
}
