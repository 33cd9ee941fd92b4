package agent_test

import (
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/dockyard/dockyard/internal/agent"
	"github.com/dockyard/dockyard/internal/agent/agentclient"
	"github.com/dockyard/dockyard/internal/agent/agenttest"
	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/runtime"
	"github.com/dockyard/dockyard/internal/runtime/process"
)

func writeEnvFile(t *testing.T, content string, mode os.FileMode) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "start.env")
	if err := os.WriteFile(p, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil { // past the umask
		t.Fatal(err)
	}
	return p
}

func TestReadEnvFile(t *testing.T) {
	const secret = "hec-secret-4711"
	for _, tc := range []struct {
		name    string
		make    func(t *testing.T) string
		want    map[string]string
		kind    func(error) bool // nil: no error
		deleted bool             // the file is gone afterwards
	}{
		{"absent", func(t *testing.T) string { return filepath.Join(t.TempDir(), "start.env") }, nil, nil, true},
		{"read", func(t *testing.T) string {
			return writeEnvFile(t, "# start environment\nDOCKYARD_HEC_TOKEN="+secret+"\n\nDOCKYARD_HEC_URL=https://h:8088/services/collector?a=b\r\nEMPTY=\n", 0o600)
		}, map[string]string{"DOCKYARD_HEC_TOKEN": secret, "DOCKYARD_HEC_URL": "https://h:8088/services/collector?a=b", "EMPTY": ""}, nil, true},
		{"empty", func(t *testing.T) string { return writeEnvFile(t, "", 0o600) }, map[string]string{}, nil, true},
		{"owner read only", func(t *testing.T) string { return writeEnvFile(t, "A=1\n", 0o400) }, map[string]string{"A": "1"}, nil, true},
		{"group readable", func(t *testing.T) string { return writeEnvFile(t, "A="+secret+"\n", 0o640) }, nil, errdefs.IsPermissionDenied, false},
		{"world readable", func(t *testing.T) string { return writeEnvFile(t, "A="+secret+"\n", 0o644) }, nil, errdefs.IsPermissionDenied, false},
		{"symlink", func(t *testing.T) string {
			target := writeEnvFile(t, "A=1\n", 0o600)
			p := filepath.Join(t.TempDir(), "start.env")
			if err := os.Symlink(target, p); err != nil {
				t.Fatal(err)
			}
			return p
		}, nil, errdefs.IsInvalid, false},
		{"directory", func(t *testing.T) string { return t.TempDir() }, nil, errdefs.IsInvalid, false},
		{"not KEY=VALUE", func(t *testing.T) string { return writeEnvFile(t, "A=1\n"+secret+"\n", 0o600) }, nil, errdefs.IsInvalid, true},
		{"empty key", func(t *testing.T) string { return writeEnvFile(t, "=x\n", 0o600) }, nil, errdefs.IsInvalid, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.make(t)
			got, err := agent.ReadEnvFile(p)
			switch {
			case tc.kind == nil && err != nil:
				t.Fatalf("ReadEnvFile = %v", err)
			case tc.kind != nil && !tc.kind(err):
				t.Fatalf("ReadEnvFile = %v, %v; want an error of the right kind", got, err)
			}
			if err != nil {
				t.Logf("error: %v", err)
				if strings.Contains(err.Error(), secret) {
					t.Errorf("the error shows the file's secret: %v", err)
				}
				if !strings.Contains(err.Error(), p) {
					t.Errorf("the error does not name the file %s: %v", p, err)
				}
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("ReadEnvFile = %v, want %v", got, tc.want)
			}
			if _, serr := os.Lstat(p); tc.deleted != os.IsNotExist(serr) {
				t.Errorf("file deleted: %t, want %t", os.IsNotExist(serr), tc.deleted)
			}
		})
	}
}

// A file of another user is refused even with mode 0600 (needs root to
// make one).
func TestReadEnvFileOtherOwner(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("making a file of another user needs root")
	}
	p := writeEnvFile(t, "A=1\n", 0o600)
	if err := os.Chown(p, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	_, err := agent.ReadEnvFile(p)
	if !errdefs.IsPermissionDenied(err) || !strings.Contains(err.Error(), "uid 65534") {
		t.Fatalf("ReadEnvFile of a file of uid 65534 = %v, want permission denied naming the owner", err)
	}
	if _, err := os.Stat(p); err != nil {
		t.Errorf("the refused file was deleted: %v", err)
	}
}

func TestApplyEnvFile(t *testing.T) {
	t.Setenv("DYTEST_A", "from the container")
	t.Setenv("DYTEST_B", "")
	p := writeEnvFile(t, "DYTEST_B=b=2\nDYTEST_A=1\n", 0o600)
	names, err := agent.ApplyEnvFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"DYTEST_A", "DYTEST_B"}; !reflect.DeepEqual(names, want) {
		t.Errorf("names = %v, want %v", names, want)
	}
	if a, b := os.Getenv("DYTEST_A"), os.Getenv("DYTEST_B"); a != "1" || b != "b=2" {
		t.Errorf("environment A=%q B=%q, want 1 and b=2 (the file wins)", a, b)
	}
	if _, err := os.Stat(p); !os.IsNotExist(err) {
		t.Errorf("the file is still there: %v", err)
	}
	// Absent (a plain start): nothing, no error.
	if names, err := agent.ApplyEnvFile(p); err != nil || len(names) != 0 {
		t.Errorf("ApplyEnvFile of an absent file = %v, %v; want nothing", names, err)
	}
}

// End to end through Main (the test binary is the agent, started by the
// process runtime): the file's variables reach the agent, which then
// answers /v1/info with the interpreter the file named; the file is gone
// and the agent logs the names, not the values. A second start without
// the file works, and a refused file stops the agent with a clear message.
func TestMainEnvFile(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	ca := agenttest.NewCA(t)
	// Unsandboxed: the agent must see the env file at its host path.
	rt, err := process.New(process.Config{BaseDir: t.TempDir(), Issuer: ca, StartTimeout: 20 * time.Second,
		Sandbox: process.SandboxOff,
		Command: func(args []string) *exec.Cmd {
			cmd := exec.Command(os.Args[0], args...)
			cmd.Env = []string{"DOCKYARD_TEST_AGENT=1"}
			return cmd
		}})
	if err != nil {
		t.Fatal(err)
	}
	envFile := filepath.Join(t.TempDir(), "start.env")
	c, err := rt.Create(ctx, runtime.Spec{Name: "envfile", Args: []string{"--env-file", envFile}})
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Remove(context.Background(), c.ID)
	const python = "/no/such/python-from-the-env-file"
	const secret = "hec-secret-0815"
	if err := os.WriteFile(envFile, []byte("DOCKYARD_AGENT_PYTHON="+python+"\nDOCKYARD_HEC_TOKEN="+secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := rt.Start(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(envFile); !os.IsNotExist(err) {
		t.Errorf("the env file is still there after the start: %v", err)
	}
	c, _ = rt.Inspect(ctx, c.ID)
	info, err := agentclient.New(c.Endpoint, c.Token, ca.Client()).Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(info.RunnerError, python) {
		t.Errorf("/v1/info runner_error = %q, want it to name the file's interpreter %s", info.RunnerError, python)
	}
	logs := readLogs(t, rt, c.ID)
	if !strings.Contains(logs, "start environment applied") || !strings.Contains(logs, "DOCKYARD_HEC_TOKEN") || strings.Contains(logs, secret) {
		t.Errorf("logs: want the applied names without the secret:\n%s", logs)
	}

	// A plain start: no file, no error, the default interpreter.
	if err := rt.Stop(ctx, c.ID, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := rt.Start(ctx, c.ID); err != nil {
		t.Fatalf("start without the env file: %v", err)
	}
	c, _ = rt.Inspect(ctx, c.ID)
	if info, err := agentclient.New(c.Endpoint, c.Token, ca.Client()).Info(ctx); err != nil || strings.Contains(info.RunnerError, python) {
		t.Errorf("/v1/info after a plain start = %+v, %v; want no trace of the earlier file", info, err)
	}

	// A readable file is refused: the agent does not start.
	if err := rt.Stop(ctx, c.ID, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(envFile, []byte("A=1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_ = os.Chmod(envFile, 0o644)
	err = rt.Start(ctx, c.ID)
	if err == nil {
		t.Fatal("the agent started with a world-readable env file")
	}
	if logs := readLogs(t, rt, c.ID); !strings.Contains(logs, "must be 0600") {
		t.Errorf("Start = %v; the logs do not say the file must be 0600:\n%s", err, logs)
	}
}

func readLogs(t *testing.T, rt *process.Runtime, id string) string {
	t.Helper()
	rc, err := rt.Logs(context.Background(), id, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, _ := io.ReadAll(rc)
	return string(b)
}
