package process_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dockyard/dockyard/internal/agent/agentclient"
	"github.com/dockyard/dockyard/internal/agent/agenttest"
	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/runtime"
	"github.com/dockyard/dockyard/internal/runtime/process"
	"github.com/dockyard/dockyard/internal/runtime/runtimetest"
)

// needBwrap skips where bubblewrap is not installed (CI installs it).
func needBwrap(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(process.DefaultBwrap); err != nil {
		t.Skipf("bubblewrap is not installed (%v): apt-get install bubblewrap", err)
	}
}

// firstRow parses the first result row of a CSV answer.
func firstRow(t *testing.T, results string) map[string]string {
	t.Helper()
	recs, err := csv.NewReader(strings.NewReader(results)).ReadAll()
	if err != nil || len(recs) < 2 {
		t.Fatalf("results %q: %v; want a header and a row", results, err)
	}
	row := map[string]string{}
	for i, k := range recs[0] {
		row[k] = recs[1][i]
	}
	return row
}

// The probe notebook, run in a sandboxed container, reaches none of the
// host's files beyond its own container, neither another container's token
// and key nor the agent's or PID 1's environment, sees only the sandbox's
// processes, and nothing of the server's environment.
func TestSandboxProbe(t *testing.T) {
	needBwrap(t)
	const canary = "server-secret-5b7c1d"
	t.Setenv("DOCKYARD_ADMIN_PASSWORD", canary)
	ca := agenttest.NewCA(t)
	data := t.TempDir() // stands for the server's data directory
	base := filepath.Join(data, "containers")
	secret := filepath.Join(data, "dockyard.db")
	if err := os.WriteFile(secret, []byte("not for notebooks"), 0o600); err != nil {
		t.Fatal(err)
	}
	rt := newRuntimeMode(t, base, ca, process.SandboxRequired)
	if ok, why := rt.Isolated(); !ok {
		t.Fatalf("sandbox required, but Isolated = false: %s", why)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	other, err := rt.Create(ctx, runtime.Spec{Name: "other"})
	if err != nil {
		t.Fatal(err)
	}
	c, err := rt.Create(ctx, runtime.Spec{Name: "probe", Env: map[string]string{"PLAIN": "visible"},
		Files: map[string][]byte{"notebooks/probe.py": runtimetest.ProbeNotebook}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rt.Remove(context.Background(), c.ID) })
	if err := rt.Start(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	c, _ = rt.Inspect(ctx, c.ID)
	targets := map[string]string{
		"db": secret, "other_token": filepath.Join(base, other.ID, "token"),
		"other_key": filepath.Join(base, other.ID, "tls", "key.pem"), "canary": canary,
	}
	params := map[string]string{"algo": "probe"}
	for k, p := range targets {
		if _, err := os.Stat(p); k != "canary" && err != nil {
			t.Fatalf("probe target %s: %v", k, err)
		}
	}
	for k, v := range targets {
		params[k] = v
	}
	meta, _ := json.Marshal(map[string]any{"options": map[string]any{"params": params, "model_name": "P"},
		"feature_variables": []string{"x"}})
	ans, err := agentclient.New(c.Endpoint, c.Token, ca.Client()).Fit(ctx, json.RawMessage(meta), "x\n1\n")
	if err != nil || ans.Status != "success" {
		t.Fatalf("probe fit: %+v, %v", ans, err)
	}
	row := firstRow(t, ans.Results)
	runtimetest.CheckProbe(t, row, "db", "other_token", "other_key")
	if !strings.Contains(row["probe_env"], "PLAIN") {
		t.Errorf("the notebook lacks the spec's variable PLAIN: %s", row["probe_env"])
	}
}

// A notebook that allocates more than the container's memory limit fails
// with a message naming the container, the limit and its setting.
func TestSandboxMemoryLimit(t *testing.T) {
	needBwrap(t)
	ca := agenttest.NewCA(t)
	rt, err := process.New(process.Config{BaseDir: t.TempDir(), Issuer: ca, Command: testAgent,
		Python: python(t), StartTimeout: 30 * time.Second, Sandbox: process.SandboxRequired,
		Limits: runtime.Limits{MemoryBytes: 768 << 20, MaxOpenFiles: 256, MaxProcs: 4096}, LimitsSetting: "containers.limits"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	hog := []byte("def init(df, param):\n    return bytearray(2 << 30)\n\ndef fit(model, df, param):\n    return {}\n\ndef apply(model, df, param):\n    return df\n")
	c, err := rt.Create(ctx, runtime.Spec{Name: "hog", Files: map[string][]byte{"notebooks/hog.py": hog}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rt.Remove(context.Background(), c.ID) })
	if err := rt.Start(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	c, _ = rt.Inspect(ctx, c.ID)
	meta := json.RawMessage(`{"options":{"params":{"algo":"hog"},"model_name":"H"},"feature_variables":["x"]}`)
	ans, err := agentclient.New(c.Endpoint, c.Token, ca.Client()).Fit(ctx, meta, "x\n1\n")
	msg := ans.Message
	if err != nil {
		msg = err.Error()
	}
	for _, want := range []string{`container "hog"`, "768 MiB", "containers.limits.memory_bytes", "MemoryError"} {
		if !strings.Contains(msg, want) {
			t.Errorf("fit over the memory limit: %q lacks %q", msg, want)
		}
	}
}

// sandbox: required without bwrap refuses to start, naming the package;
// auto falls back to unsandboxed and says why; a bad setting is invalid.
func TestSandboxSetting(t *testing.T) {
	ca := agenttest.NewCA(t)
	cfg := func(mode, bwrap string) process.Config {
		return process.Config{BaseDir: t.TempDir(), Issuer: ca, Sandbox: mode, Bwrap: bwrap}
	}
	missing := filepath.Join(t.TempDir(), "no-bwrap")
	if _, err := process.New(cfg(process.SandboxRequired, missing)); !errdefs.IsUnavailable(err) || !strings.Contains(err.Error(), "bubblewrap") {
		t.Errorf("required without bwrap: %v, want unavailable naming bubblewrap", err)
	}
	rt, err := process.New(cfg(process.SandboxAuto, missing))
	if err != nil {
		t.Fatal(err)
	}
	if ok, why := rt.Isolated(); ok || !strings.Contains(why, "bubblewrap") || !strings.Contains(why, "containers.process.sandbox") {
		t.Errorf("auto without bwrap: Isolated = %t, %q; want false naming the package and the setting", ok, why)
	}
	rt, err = process.New(cfg(process.SandboxOff, ""))
	if err != nil {
		t.Fatal(err)
	}
	if ok, why := rt.Isolated(); ok || !strings.Contains(why, "containers.process.sandbox") {
		t.Errorf("off: Isolated = %t, %q", ok, why)
	}
	if _, err := process.New(cfg("maybe", "")); !errdefs.IsInvalid(err) {
		t.Errorf("sandbox maybe: %v, want invalid", err)
	}
	if _, err := os.Stat(process.DefaultBwrap); err == nil {
		rt, err := process.New(cfg(process.SandboxAuto, ""))
		if err != nil {
			t.Fatal(err)
		}
		if ok, why := rt.Isolated(); !ok {
			t.Errorf("auto with bwrap installed: not isolated: %s", why)
		}
	}
}
