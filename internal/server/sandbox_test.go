package server_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/dockyard/dockyard/internal/access"
	"github.com/dockyard/dockyard/internal/pki"
	"github.com/dockyard/dockyard/internal/runtime/runtimetest"
	"github.com/dockyard/dockyard/internal/server"
	"github.com/dockyard/dockyard/internal/server/servertest"
	"github.com/dockyard/dockyard/internal/wire"
)

// testAgentCommand runs this test binary as `dockyard agent` (see
// TestMain): the agent's environment is an allow-list, so the test hook
// is passed explicitly.
func testAgentCommand(args []string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = []string{"DOCKYARD_TEST_MAIN=1"}
	return cmd
}

// The probe notebook, run by fit as a plain user (roles user and
// mltk_container_user) through the server on the sandboxed process
// runtime, cannot open the server's database, CA key or secret key, nor
// another user's container token and key, nor read the agent's or PID 1's
// environment; it sees only the sandbox's processes and nothing of the
// server's environment.
func TestSandboxProbeThroughServer(t *testing.T) {
	needPython(t)
	if _, err := os.Stat("/usr/bin/bwrap"); err != nil {
		t.Skip("bubblewrap is not installed (apt-get install bubblewrap)")
	}
	const canary = "admin-password-canary-3c4d5e"
	t.Setenv("DOCKYARD_ADMIN_PASSWORD", canary)
	ctx := context.Background()
	cfg := servertest.Config(t.TempDir())
	cfg.Containers.Process.Sandbox = "required"
	h := servertest.StartConfig(t, cfg)
	cleanupContainers(t, h)
	if ok, why := h.Srv.ProcessSandbox(); !ok {
		t.Fatalf("the process runtime is not sandboxed: %s", why)
	}
	bob := h.User("bob", access.RoleUser, access.RoleContainerUser)
	if _, err := bob.StartContainer(ctx, "bobbox", wire.ContainerStart{}); err != nil {
		t.Fatal(err)
	}
	bc, err := h.Srv.Containers().Get(ctx, &access.Principal{User: "bob", App: "search"}, "bobbox")
	if err != nil {
		t.Fatal(err)
	}
	bobDir := filepath.Join(h.Data, "containers", bc.RuntimeID)
	targets := map[string]string{
		"db":          filepath.Join(h.Data, "dockyard.db"),
		"ca_key":      filepath.Join(h.Data, "pki", pki.CAKeyFile),
		"secret_key":  filepath.Join(h.Data, server.SecretKeyFile),
		"other_token": filepath.Join(bobDir, "token"),
		"other_key":   filepath.Join(bobDir, "tls", "key.pem"),
	}
	spl := "| inputlookup one.csv | fit MLTKContainer algo=probe canary=" + canary
	for k, p := range targets {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("probe target %s: %v", k, err)
		}
		spl += fmt.Sprintf(" %s=%s", k, strconv.Quote(p))
	}
	spl += " x into Probe"

	alice := h.User("alice", access.RoleUser, access.RoleContainerUser)
	if _, err := alice.PushNotebook(ctx, "probe", "py", "", runtimetest.ProbeNotebook); err != nil {
		t.Fatal(err)
	}
	if _, err := alice.UploadLookup(ctx, "one.csv", strings.NewReader("x\n1\n")); err != nil {
		t.Fatal(err)
	}
	res := mlSearch(t, alice, spl)
	if len(res.Results) != 1 {
		t.Fatalf("probe fit returned %d rows, want 1: %v (messages %q)", len(res.Results), res.Results, res.Messages)
	}
	row := map[string]string{}
	for _, f := range res.Results[0] {
		row[strings.TrimPrefix(f.Name, "predicted_")] = f.Value // fit names apply's new columns predicted_*
	}
	runtimetest.CheckProbe(t, row, "db", "ca_key", "secret_key", "other_token", "other_key")
}
