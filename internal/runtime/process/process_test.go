package process_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dockyard/dockyard/internal/agent"
	"github.com/dockyard/dockyard/internal/agent/agentclient"
	"github.com/dockyard/dockyard/internal/agent/agenttest"
	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/runtime"
	"github.com/dockyard/dockyard/internal/runtime/process"
	"github.com/dockyard/dockyard/internal/runtime/runtimetest"
)

// The test binary doubles as the agent: the runtime re-executes it with
// DOCKYARD_TEST_AGENT=1 (the os/exec helper-process pattern).
func TestMain(m *testing.M) {
	agenttest.Main(m)
}

var (
	pyOnce sync.Once
	pyPath string
)

func python(t *testing.T) string {
	t.Helper()
	pyOnce.Do(func() {
		if out, err := exec.Command("python3", "-c", "import sys; print(sys.executable)").Output(); err == nil {
			pyPath = strings.TrimSpace(string(out))
		}
	})
	if pyPath == "" {
		t.Skip("python3 is not on PATH; the agent's notebook runner needs it")
	}
	return pyPath
}

// testAgent runs this test binary as the agent.
func testAgent(args []string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = []string{"DOCKYARD_TEST_AGENT=1"}
	return cmd
}

// newRuntime is an unsandboxed runtime (its agents' pids are the host's,
// which the tests below read in /proc); sandboxed runtimes are in
// sandbox_test.go.
func newRuntime(t *testing.T, base string, ca *agenttest.CA) *process.Runtime {
	t.Helper()
	return newRuntimeMode(t, base, ca, process.SandboxOff)
}

func newRuntimeMode(t *testing.T, base string, ca *agenttest.CA, sandbox string) *process.Runtime {
	t.Helper()
	rt, err := process.New(process.Config{
		BaseDir:      base,
		Issuer:       ca,
		Command:      testAgent,
		Python:       python(t),
		StartTimeout: 30 * time.Second,
		Logger:       nil,
		Sandbox:      sandbox,
	})
	if err != nil {
		t.Fatal(err)
	}
	return rt
}

func TestConformance(t *testing.T) {
	ca := agenttest.NewCA(t)
	for _, mode := range []string{process.SandboxOff, process.SandboxRequired} {
		t.Run(mode, func(t *testing.T) {
			if mode == process.SandboxRequired {
				needBwrap(t)
			}
			runtimetest.Run(t,
				func(t *testing.T) runtime.Runtime { return newRuntimeMode(t, t.TempDir(), ca, mode) },
				func(t *testing.T, name string) runtime.Spec {
					return runtime.Spec{Name: name, Image: "process", Labels: map[string]string{runtime.LabelServerID: "test"}}
				})
		})
	}
}

func TestFitInContainerAndAdoptAfterRestart(t *testing.T) {
	ca := agenttest.NewCA(t)
	base := t.TempDir()
	rt := newRuntime(t, base, ca)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	nb, err := os.ReadFile(filepath.Join("..", "..", "..", "examples", "notebooks", "linear_regression.ipynb"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := rt.Create(ctx, runtime.Spec{Name: "dev", Image: "process",
		Labels: map[string]string{runtime.LabelOwner: "alice", runtime.LabelServerID: "s1"},
		Files:  map[string][]byte{"notebooks/linear_regression.ipynb": nb}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rt.Remove(context.Background(), c.ID) })
	if _, err := rt.Create(ctx, runtime.Spec{Name: "gpu", GPUs: 1}); !errdefs.IsInvalid(err) {
		t.Errorf("Create with a GPU: %v, want invalid", err)
	}
	if err := rt.Start(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	c, _ = rt.Inspect(ctx, c.ID)
	if len(c.Token) != 64 {
		t.Fatalf("token has %d characters, want 64 hex", len(c.Token))
	}
	// The token is not on the agent's command line.
	pid := pidOf(t, base, c.ID)
	cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if strings.Contains(string(cmdline), c.Token) {
		t.Errorf("the token appears on the agent's command line")
	}
	cl := agentclient.New(c.Endpoint, c.Token, ca.Client())
	meta := json.RawMessage(`{"options":{"params":{"algo":"linear_regression"},"model_name":"M"},"feature_variables":["x1"],"target_variables":["y"]}`)
	ans, err := cl.Fit(ctx, meta, "x1,y\n1,3\n2,5\n3,7\n")
	if err != nil || ans.Status != "success" || len(ans.Files) != 1 {
		t.Fatalf("fit in the container: %+v, %v", ans, err)
	}
	if _, err := agentclient.New(c.Endpoint, "wrong", ca.Client()).Fit(ctx, meta, "x1,y\n1,3\n"); !errdefs.IsUnauthenticated(err) {
		t.Errorf("fit with a wrong token: %v, want unauthenticated", err)
	}

	// A new runtime on the same base dir (a restarted server) adopts it.
	rt2 := newRuntime(t, base, ca)
	list, err := rt2.List(ctx, map[string]string{runtime.LabelOwner: "alice"})
	if err != nil || len(list) != 1 || list[0].ID != c.ID || list[0].State != runtime.StateRunning || list[0].Endpoint != c.Endpoint {
		t.Fatalf("after restart, List = %+v, %v; want %s running at %s", list, err, c.ID, c.Endpoint)
	}
	if _, err := agentclient.New(list[0].Endpoint, list[0].Token, ca.Client()).Summary(ctx, "linear_regression", "M"); err != nil {
		t.Errorf("summary through the adopted container: %v", err)
	}
	if err := rt2.Stop(ctx, c.ID, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if got, _ := rt2.Inspect(ctx, c.ID); got.State != runtime.StateExited || got.Endpoint != "" {
		t.Errorf("after Stop by the new runtime: %+v, want exited", got)
	}
	runtimetest.CheckAgentLogs(t, rt2, c)
	// The model files survive a restart of the container.
	if err := rt2.Start(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	c, _ = rt2.Inspect(ctx, c.ID)
	files, err := agentclient.New(c.Endpoint, c.Token, ca.Client()).ModelFiles(ctx)
	if err != nil || len(files) != 1 || files[0] != ans.Files[0] {
		t.Errorf("model files after restart: %+v, %v; want %+v", files, err, ans.Files)
	}
}

func TestDeadPidIsExited(t *testing.T) {
	ca := agenttest.NewCA(t)
	base := t.TempDir()
	// Pretend it ran as a process that has since ended (and whose pid may
	// have been reused by something else: a different start time).
	id := createWithRecord(t, newRuntime(t, base, ca), base, "gone", func(rec map[string]any) { rec["pid_start"] = 1 })
	got, err := newRuntime(t, base, ca).Inspect(context.Background(), id)
	if err != nil || got.State != runtime.StateExited {
		t.Errorf("Inspect = %+v, %v; want exited (pid %d is another process now)", got, err, os.Getpid())
	}
}

func pidOf(t *testing.T, base, id string) int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(base, id, "container.json"))
	if err != nil {
		t.Fatal(err)
	}
	var rec struct {
		PID int `json:"pid"`
	}
	_ = json.Unmarshal(b, &rec)
	return rec.PID
}

func environOf(t *testing.T, pid int) map[string]string {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid))
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{}
	for _, kv := range strings.Split(string(b), "\x00") {
		if k, v, ok := strings.Cut(kv, "="); ok {
			env[k] = v
		}
	}
	return env
}

// StartWithEnv hands secrets to the agent through its start environment
// file, which the agent deletes once read: not its command line, its
// initial environment, container.json or its log; the notebook runner
// inherits the HEC variables but not the trace exporter's token. Nothing
// of the server's own environment reaches the agent.
func TestStartWithEnvKeepsSecretsOutOfFiles(t *testing.T) {
	const canary = "server-secret-9a8b7c"
	t.Setenv("DOCKYARD_ADMIN_PASSWORD", canary)
	ca := agenttest.NewCA(t)
	base := t.TempDir()
	rt := newRuntime(t, base, ca)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c, err := rt.Create(ctx, runtime.Spec{Name: "env", Env: map[string]string{"PLAIN": "visible"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rt.Remove(context.Background(), c.ID) })
	const hecSecret, otelSecret = "hec-secret-0f9e8d7c", "otel-secret-1a2b3c4d"
	err = rt.StartWithEnv(ctx, c.ID, map[string]string{
		agent.EnvHECToken: hecSecret, agent.EnvHECURL: "https://127.0.0.1:1/services/collector",
		agent.EnvTraceEndpoint: "http://127.0.0.1:1", agent.EnvTraceToken: otelSecret,
	})
	if err != nil {
		t.Fatal(err)
	}
	pid := pidOf(t, base, c.ID)
	env := environOf(t, pid)
	if env[agent.EnvHECToken] != "" || env["PLAIN"] != "visible" || env[agent.EnvContainer] != "env" {
		t.Errorf("agent's initial environment: HEC token set %t (want not), PLAIN=%q, container=%q",
			env[agent.EnvHECToken] != "", env["PLAIN"], env[agent.EnvContainer])
	}
	for k, v := range env {
		if strings.Contains(v, canary) || !allowedEnv(k) {
			t.Errorf("the agent's environment holds %s, which the runtime did not put there", k)
		}
	}
	if _, err := os.Stat(filepath.Join(base, c.ID, "start", "start.env")); !os.IsNotExist(err) {
		t.Errorf("the start environment file is still there after the start: %v", err)
	}
	cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if strings.Contains(string(cmdline), hecSecret) {
		t.Errorf("the HEC token is on the command line")
	}
	c, _ = rt.Inspect(ctx, c.ID)
	info, err := agentclient.New(c.Endpoint, c.Token, ca.Client()).Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.RunnerPID > 0 {
		renv := environOf(t, info.RunnerPID)
		if renv["DOCKYARD_ADMIN_PASSWORD"] != "" {
			t.Errorf("the notebook runner sees the server's environment")
		}
		if renv[agent.EnvHECToken] != hecSecret {
			t.Errorf("the notebook runner does not see %s", agent.EnvHECToken)
		}
		for _, k := range []string{agent.EnvTraceToken, agent.EnvTraceEndpoint} {
			if _, ok := renv[k]; ok {
				t.Errorf("the notebook runner sees %s", k)
			}
		}
	} else {
		t.Logf("no notebook runner (%s): its environment is not checked", info.RunnerError)
	}
	if err := rt.Stop(ctx, c.ID, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"container.json", "agent.log"} {
		b, _ := os.ReadFile(filepath.Join(base, c.ID, f))
		if strings.Contains(string(b), hecSecret) || strings.Contains(string(b), otelSecret) {
			t.Errorf("%s holds a secret passed with StartWithEnv:\n%s", f, b)
		}
	}
	// A plain Start later does not bring the secrets back.
	if err := rt.Start(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	if env := environOf(t, pidOf(t, base, c.ID)); env[agent.EnvHECToken] != "" {
		t.Errorf("a restart without StartWithEnv still has the HEC token")
	}
}

// A record whose pid has no start time cannot be told from another
// process that reused the pid: it is exited, and Stop and Remove signal
// nothing (here the pid is the test's own process).
func TestPidWithoutStartTimeIsNotSignalled(t *testing.T) {
	ca := agenttest.NewCA(t)
	base := t.TempDir()
	id := createWithRecord(t, newRuntime(t, base, ca), base, "nostart", func(rec map[string]any) { delete(rec, "pid_start") })
	ctx := context.Background()
	rt2 := newRuntime(t, base, ca)
	if got, err := rt2.Inspect(ctx, id); err != nil || got.State != runtime.StateExited || got.Endpoint != "" {
		t.Errorf("Inspect = %+v, %v; want exited (pid %d may be anyone's now)", got, err, os.Getpid())
	}
	if err := rt2.Remove(ctx, id); err != nil {
		t.Errorf("Remove: %v", err)
	}
}

// createWithRecord creates a container with rt and rewrites its record as
// if it had run since now as the test's own process, with edit making the
// last changes; it returns the container's id.
func createWithRecord(t *testing.T, rt *process.Runtime, base, name string, edit func(rec map[string]any)) string {
	t.Helper()
	c, err := rt.Create(context.Background(), runtime.Spec{Name: name})
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(base, c.ID, "container.json")
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	var rec map[string]any
	if err := json.Unmarshal(b, &rec); err != nil {
		t.Fatal(err)
	}
	rec["pid"], rec["started"], rec["port"] = os.Getpid(), time.Now().UTC(), 1
	edit(rec)
	b, _ = json.Marshal(rec)
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return c.ID
}

// allowedEnv reports whether the runtime may set variable k on an agent.
func allowedEnv(k string) bool {
	switch k {
	case "PATH", "HOME", "LANG", "PLAIN", "DOCKYARD_CONTAINER", "DOCKYARD_TEST_AGENT",
		"DOCKYARD_MEMORY_LIMIT", "DOCKYARD_MEMORY_LIMIT_SETTING":
		return true
	}
	return false
}
