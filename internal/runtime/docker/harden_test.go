package docker_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/moby/moby/client"

	"github.com/dockyard/dockyard/internal/agent/agentclient"
	"github.com/dockyard/dockyard/internal/agent/agenttest"
	"github.com/dockyard/dockyard/internal/runtime"
	"github.com/dockyard/dockyard/internal/runtime/docker"
	"github.com/dockyard/dockyard/internal/runtime/runtimetest"
)

// A container's configuration, read back from the engine, is hardened:
// an unprivileged user, every capability dropped, no-new-privileges, a
// read-only root file system with volumes for the agent's root and its
// secrets and a tmpfs /tmp, pids, memory and open-file limits (the
// runtime's defaults where the spec sets none), the bridge network, no
// privileged mode, no devices and no GPU request without GPUs. The agent
// runs that way (it starts and answers).
func TestHardenedContainer(t *testing.T) {
	cli := daemon(t)
	ca := agenttest.NewCA(t)
	rt := newRuntime(t, ca, newScope(), func(c *docker.Config) {
		c.Limits = runtime.Limits{MemoryBytes: 512 << 20, MaxProcs: 256, MaxOpenFiles: 1024}
	})
	ctx := ctxT(t)
	spec := specFor(t, "hard")
	spec.Limits = runtime.Limits{MaxProcs: 128} // the spec's own limit wins
	c, err := rt.Create(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	in, err := cli.ContainerInspect(ctx, c.ID, client.ContainerInspectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cfg, h := in.Container.Config, in.Container.HostConfig
	if cfg.User != docker.DefaultUser {
		t.Errorf("user %q, want %s", cfg.User, docker.DefaultUser)
	}
	if len(h.CapDrop) != 1 || h.CapDrop[0] != "ALL" || len(h.CapAdd) != 0 {
		t.Errorf("capabilities: drop %v, add %v; want drop ALL, add none", h.CapDrop, h.CapAdd)
	}
	if !contains(h.SecurityOpt, "no-new-privileges:true") && !contains(h.SecurityOpt, "no-new-privileges") {
		t.Errorf("security options %v lack no-new-privileges", h.SecurityOpt)
	}
	if !h.ReadonlyRootfs {
		t.Error("the root file system is writable")
	}
	if _, ok := h.Tmpfs["/tmp"]; !ok {
		t.Errorf("no tmpfs at /tmp: %v", h.Tmpfs)
	}
	vols := map[string]bool{}
	for _, m := range in.Container.Mounts {
		if m.Type == "volume" && m.RW {
			vols[m.Destination] = true
		}
		if m.Type == "bind" {
			t.Errorf("a host directory is bound: %+v", m)
		}
	}
	if !vols[docker.AgentRoot] || !vols[docker.SecretDir] {
		t.Errorf("writable volumes %v, want %s and %s", vols, docker.AgentRoot, docker.SecretDir)
	}
	if h.Resources.PidsLimit == nil || *h.Resources.PidsLimit != 128 {
		t.Errorf("pids limit %v, want 128 (the spec's)", h.Resources.PidsLimit)
	}
	if h.Resources.Memory != 512<<20 {
		t.Errorf("memory limit %d, want %d (the runtime's default)", h.Resources.Memory, 512<<20)
	}
	if len(h.Resources.Ulimits) != 1 || h.Resources.Ulimits[0].Name != "nofile" || h.Resources.Ulimits[0].Hard != 1024 {
		t.Errorf("ulimits %+v, want nofile 1024", h.Resources.Ulimits)
	}
	if h.NetworkMode.IsHost() || h.PidMode.IsHost() || h.IpcMode.IsHost() {
		t.Errorf("a host namespace: network %q, pid %q, ipc %q", h.NetworkMode, h.PidMode, h.IpcMode)
	}
	if h.Privileged || len(h.Resources.Devices) != 0 || len(h.Resources.DeviceRequests) != 0 {
		t.Errorf("privileged %t, devices %v, device requests %v; want none", h.Privileged, h.Resources.Devices, h.Resources.DeviceRequests)
	}
	if err := rt.Start(ctx, c.ID); err != nil {
		t.Fatalf("the hardened agent does not start: %v", err)
	}
	c, _ = rt.Inspect(ctx, c.ID)
	if _, err := agentclient.New(c.Endpoint, c.Token, ca.Client()).ModelFiles(ctx); err != nil {
		t.Errorf("the hardened agent does not answer: %v", err)
	}
}

// A root user is refused.
func TestRootUserRefused(t *testing.T) {
	for _, u := range []string{"0", "0:0", "root", "x:1"} {
		if _, err := docker.New(docker.Config{StateDir: t.TempDir(), Issuer: agenttest.NewCA(t), User: u}); err == nil {
			t.Errorf("user %q accepted", u)
		}
	}
}

// The probe notebook runs through the Docker runtime: it reaches no file of
// the host (the test names the runtime's state directory, holding the
// container tokens), nor the agent's or PID 1's environment, and sees only
// the container's processes.
func TestProbeInDocker(t *testing.T) {
	img := os.Getenv(EnvPythonImage)
	if img == "" {
		t.Skipf("%s is not set: name an agent image with python3 (bash .ci/docker-image.sh builds one) to run the probe in Docker", EnvPythonImage)
	}
	cli := daemon(t)
	if _, err := cli.ImageInspect(context.Background(), img); err != nil {
		t.Skipf("image %s (from %s) is not on the Docker host: %v", img, EnvPythonImage, err)
	}
	const canary = "server-secret-docker-7e8f"
	t.Setenv("DOCKYARD_ADMIN_PASSWORD", canary)
	ca := agenttest.NewCA(t)
	state := t.TempDir()
	rt := newRuntime(t, ca, newScope(), func(c *docker.Config) { c.StateDir = state })
	ctx := ctxT(t)
	other, err := rt.Create(ctx, runtime.Spec{Name: "other", Image: img, Labels: map[string]string{labelTestRun: runID}})
	if err != nil {
		t.Fatal(err)
	}
	c, err := rt.Create(ctx, runtime.Spec{Name: "probe", Image: img, Labels: map[string]string{labelTestRun: runID},
		Files: map[string][]byte{"notebooks/probe.py": runtimetest.ProbeNotebook}})
	if err != nil {
		t.Fatal(err)
	}
	if err := rt.Start(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	c, _ = rt.Inspect(ctx, c.ID)
	ents, err := os.ReadDir(state)
	if err != nil || len(ents) == 0 {
		t.Fatalf("the state directory %s holds nothing to probe for (%v)", state, err)
	}
	params := map[string]string{"algo": "probe", "canary": canary, "db": state + "/" + ents[0].Name(),
		"other_token": "/proc/1/root" + docker.SecretDir + "/token"}
	_ = other
	meta, _ := json.Marshal(map[string]any{"options": map[string]any{"params": params, "model_name": "P"}, "feature_variables": []string{"x"}})
	ans, err := agentclient.New(c.Endpoint, c.Token, ca.Client()).Fit(ctx, meta, "x\n1\n")
	if err != nil || ans.Status != "success" {
		t.Fatalf("probe fit: %+v, %v", ans, err)
	}
	recs, err := csv.NewReader(strings.NewReader(ans.Results)).ReadAll()
	if err != nil || len(recs) < 2 {
		t.Fatalf("probe results %q: %v", ans.Results, err)
	}
	row := map[string]string{}
	for i, k := range recs[0] {
		row[k] = recs[1][i]
	}
	runtimetest.CheckProbe(t, row, "db", "other_token")
}
