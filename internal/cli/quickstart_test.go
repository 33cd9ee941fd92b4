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
// with python3, applies it, summarises it and finds the audit event.
func TestQuickstart(t *testing.T) {
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("python3 is not installed: the quickstart's notebook runs in it (apt-get install python3)")
	}
	// Exactly the README's first command: the default, relative data dir
	// ./dockyard-data, from a directory that is not the repository.
	t.Chdir(t.TempDir())
	out, errOut, code := run(t, map[string]string{"DOCKYARD_ADMIN_PASSWORD": "quickstart-test-password"}, "", "quickstart")
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
}
