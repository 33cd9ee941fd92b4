package docker_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/client"

	"github.com/dockyard/dockyard/internal/agent/agentclient"
	"github.com/dockyard/dockyard/internal/agent/agenttest"
	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/runtime"
	"github.com/dockyard/dockyard/internal/runtime/docker"
	"github.com/dockyard/dockyard/internal/runtime/runtimetest"
)

func newScope() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return "test-" + hex.EncodeToString(b)
}

// newRuntime returns a runtime of its own scope (so it starts empty) whose
// containers are removed when t ends.
func newRuntime(t testing.TB, ca *agenttest.CA, scope string, mod func(*docker.Config)) *docker.Runtime {
	t.Helper()
	daemon(t)
	cfg := docker.Config{StateDir: t.TempDir(), Issuer: ca, Scope: scope, StartTimeout: 30 * time.Second}
	if mod != nil {
		mod(&cfg)
	}
	rt, err := docker.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := rt.Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		list, _ := rt.List(ctx, nil)
		for _, c := range list {
			_ = rt.Remove(ctx, c.ID)
		}
		rt.Close()
	})
	return rt
}

func specFor(t *testing.T, name string) runtime.Spec {
	return runtime.Spec{Name: name, Image: testImage(t), Labels: map[string]string{labelTestRun: runID}}
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestConformance(t *testing.T) {
	daemon(t)
	ca := agenttest.NewCA(t)
	runtimetest.Run(t, func(t *testing.T) runtime.Runtime { return newRuntime(t, ca, newScope(), nil) }, specFor)
}

// Secrets travel as files copied into the container, never in its
// configuration; env, labels, limits and GPU requests do.
func TestInspectHoldsNoSecrets(t *testing.T) {
	cli := daemon(t)
	ca := agenttest.NewCA(t)
	rt := newRuntime(t, ca, newScope(), nil)
	ctx := ctxT(t)
	spec := specFor(t, "secrets")
	spec.Env = map[string]string{"PLAIN": "visible"}
	spec.Labels[runtime.LabelOwner] = "alice"
	spec.Limits = runtime.Limits{CPUs: 0.5, MemoryBytes: 256 << 20}
	c, err := rt.Create(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	if err := rt.Start(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	c, err = rt.Inspect(ctx, c.ID)
	if err != nil || len(c.Token) != 64 {
		t.Fatalf("Inspect = %+v, %v; want a 64-hex token", c, err)
	}
	raw, err := cli.ContainerInspect(ctx, c.ID, client.ContainerInspectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(raw.Raw), c.Token) || strings.Contains(string(raw.Raw), "PRIVATE KEY") {
		t.Errorf("docker inspect shows the agent's token or key:\n%s", raw.Raw)
	}
	in := raw.Container
	if !contains(in.Config.Env, "PLAIN=visible") || !contains(in.Config.Env, "DOCKYARD_CONTAINER=secrets") {
		t.Errorf("env = %v, want PLAIN=visible and DOCKYARD_CONTAINER=secrets", in.Config.Env)
	}
	for k, v := range map[string]string{runtime.LabelOwner: "alice", runtime.LabelManaged: "true", labelTestRun: runID} {
		if in.Config.Labels[k] != v {
			t.Errorf("docker label %s = %q, want %q", k, in.Config.Labels[k], v)
		}
	}
	if in.HostConfig.NanoCPUs != 5e8 || in.HostConfig.Memory != 256<<20 {
		t.Errorf("limits: NanoCpus %d, Memory %d; want 5e8 and %d", in.HostConfig.NanoCPUs, in.HostConfig.Memory, 256<<20)
	}
	for _, b := range in.HostConfig.PortBindings {
		for _, pb := range b {
			if pb.HostIP.String() != "127.0.0.1" {
				t.Errorf("agent port published on %v, want 127.0.0.1 only", pb.HostIP)
			}
		}
	}
	// The token file inside is 0600.
	res, err := cli.ContainerStatPath(ctx, c.ID, client.ContainerStatPathOptions{Path: docker.SecretDir + "/token"})
	if err != nil {
		t.Fatal(err)
	}
	if perm := res.Stat.Mode.Perm(); perm != 0o600 {
		t.Errorf("token file mode %o, want 600", perm)
	}
	// The agent takes that token and no other.
	cl := agentclient.New(c.Endpoint, c.Token, ca.Client())
	if _, err := cl.ModelFiles(ctx); err != nil {
		t.Errorf("agent with its token: %v", err)
	}
	if _, err := agentclient.New(c.Endpoint, "wrong", ca.Client()).ModelFiles(ctx); !errdefs.IsUnauthenticated(err) {
		t.Errorf("agent with a wrong token: %v, want unauthenticated", err)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestGPURequest(t *testing.T) {
	cli := daemon(t)
	rt := newRuntime(t, agenttest.NewCA(t), newScope(), nil)
	ctx := ctxT(t)
	spec := specFor(t, "gpu")
	spec.GPUs = 2
	c, err := rt.Create(ctx, spec) // not started: this host may have no GPU
	if err != nil {
		t.Fatal(err)
	}
	in, err := cli.ContainerInspect(ctx, c.ID, client.ContainerInspectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	dr := in.Container.HostConfig.DeviceRequests
	if len(dr) != 1 || dr[0].Driver != "nvidia" || dr[0].Count != 2 || len(dr[0].Capabilities) != 1 || dr[0].Capabilities[0][0] != "gpu" {
		t.Errorf("device requests = %+v, want one nvidia request for 2 GPUs", dr)
	}

	// Devices the server chose are asked for by id, not by count.
	spec = specFor(t, "gpu-devices")
	spec.GPUs, spec.GPUDevices = 2, []string{"1", "GPU-8c4e"}
	if c, err = rt.Create(ctx, spec); err != nil {
		t.Fatal(err)
	}
	if in, err = cli.ContainerInspect(ctx, c.ID, client.ContainerInspectOptions{}); err != nil {
		t.Fatal(err)
	}
	dr = in.Container.HostConfig.DeviceRequests
	if len(dr) != 1 || dr[0].Driver != "nvidia" || dr[0].Count != 0 || strings.Join(dr[0].DeviceIDs, ",") != "1,GPU-8c4e" {
		t.Errorf("device requests = %+v, want one nvidia request for devices 1 and GPU-8c4e", dr)
	}
	spec = specFor(t, "gpu-mismatch")
	spec.GPUs, spec.GPUDevices = 2, []string{"1"}
	if _, err := rt.Create(ctx, spec); !errdefs.IsInvalid(err) {
		t.Errorf("2 GPUs naming 1 device: %v, want invalid", err)
	}
}

// A fresh Runtime over the same daemon and scope (a restarted server, even
// one that lost its state directory) adopts the running container.
func TestAdoptionFilesAndLogs(t *testing.T) {
	ca := agenttest.NewCA(t)
	scope := newScope()
	rt := newRuntime(t, ca, scope, nil)
	ctx := ctxT(t)
	spec := specFor(t, "adopt")
	spec.Labels[runtime.LabelOwner] = "bob"
	spec.Files = map[string][]byte{"app/model/data/m/weights.json": []byte(`{"w":1}`), "notebooks/hello.py": []byte("x = 1\n")}
	c, err := rt.Create(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	if err := rt.Start(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	c, _ = rt.Inspect(ctx, c.ID)

	rt2 := newRuntime(t, ca, scope, nil) // an empty state directory
	list, err := rt2.List(ctx, map[string]string{runtime.LabelOwner: "bob"})
	if err != nil || len(list) != 1 {
		t.Fatalf("List by the new runtime = %+v, %v; want the one container", list, err)
	}
	got := list[0]
	if got.ID != c.ID || got.Name != "adopt" || got.State != runtime.StateRunning || got.Endpoint != c.Endpoint || got.Token != c.Token {
		t.Fatalf("adopted %+v (token match %t), want %s running at %s", got, got.Token == c.Token, c.ID, c.Endpoint)
	}
	cl := agentclient.New(got.Endpoint, got.Token, ca.Client())
	files, err := cl.ModelFiles(ctx)
	if err != nil || len(files) != 1 || files[0].Path != "m/weights.json" || files[0].Size != 7 {
		t.Errorf("model files = %+v, %v; want m/weights.json (7 bytes)", files, err)
	}
	if nb, err := cl.GetNotebook(ctx, "hello.py"); err != nil || string(nb) != "x = 1\n" {
		t.Errorf("notebook hello.py = %q, %v", nb, err)
	}
	if other, err := newRuntime(t, ca, newScope(), nil).Inspect(ctx, c.ID); !errdefs.IsNotFound(err) {
		t.Errorf("a runtime of another scope sees the container: %+v, %v", other, err)
	}

	if err := rt2.Stop(ctx, c.ID, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if got, _ := rt2.Inspect(ctx, c.ID); got.State != runtime.StateExited || got.Endpoint != "" {
		t.Errorf("after Stop: %+v, want exited without an endpoint", got)
	}
	runtimetest.CheckAgentLogs(t, rt2, c)
	// Restarted, it publishes a (new) port and keeps its files.
	if err := rt2.Start(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	got, _ = rt2.Inspect(ctx, c.ID)
	if files, err := agentclient.New(got.Endpoint, got.Token, ca.Client()).ModelFiles(ctx); err != nil || len(files) != 1 {
		t.Errorf("model files after restart: %+v, %v", files, err)
	}
}

func TestStartFailures(t *testing.T) {
	ca := agenttest.NewCA(t)
	rt := newRuntime(t, ca, newScope(), func(c *docker.Config) { c.StartTimeout = 3 * time.Second })
	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		// The agent refuses its arguments and exits at once.
		{"exits", []string{"--no-such-flag"}, []string{"exited with code", "docker logs", "no-such-flag"}},
		// The agent listens on a port that is not published: it never answers.
		{"never-answers", []string{"--addr", "0.0.0.0:9999"}, []string{"did not answer", "within 3s", "docker logs"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := ctxT(t)
			spec := specFor(t, "fail-"+tc.name)
			spec.Args = tc.args
			c, err := rt.Create(ctx, spec)
			if err != nil {
				t.Fatal(err)
			}
			err = rt.Start(ctx, c.ID)
			if !errdefs.IsUnavailable(err) {
				t.Fatalf("Start = %v, want kind unavailable", err)
			}
			t.Logf("Start error: %v", err)
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Start error %q does not say %q", err, w)
				}
			}
			if got, _ := rt.Inspect(ctx, c.ID); got.State == runtime.StateRunning {
				t.Errorf("after a failed Start the container still runs")
			}
		})
	}
}

func TestCreateErrors(t *testing.T) {
	rt := newRuntime(t, agenttest.NewCA(t), newScope(), nil)
	ctx := ctxT(t)
	spec := specFor(t, "noimage")
	spec.Image = "dockyard-no-such-image:never"
	if _, err := rt.Create(ctx, spec); !errdefs.IsNotFound(err) || !strings.Contains(err.Error(), "never pulls") {
		t.Errorf("Create with a missing image = %v, want not found saying it never pulls", err)
	}
	spec = specFor(t, "badlimits")
	spec.Limits.CPUs = -1
	if _, err := rt.Create(ctx, spec); !errdefs.IsInvalid(err) {
		t.Errorf("Create with negative limits = %v, want invalid", err)
	}
}

func TestImageDigest(t *testing.T) {
	rt := newRuntime(t, agenttest.NewCA(t), newScope(), nil)
	ctx := ctxT(t)
	var _ runtime.ImageDigester = rt
	d, err := rt.ImageDigest(ctx, testImage(t))
	if err != nil || !strings.HasPrefix(d, "sha256:") || len(d) != len("sha256:")+64 {
		t.Fatalf("ImageDigest = %q, %v; want sha256:<64 hex>", d, err)
	}
	if _, err := rt.ImageDigest(ctx, "dockyard-no-such-image:never"); !errdefs.IsNotFound(err) {
		t.Errorf("ImageDigest of a missing image = %v, want not found", err)
	}
}

func TestUnreachableDaemon(t *testing.T) {
	rt, err := docker.New(docker.Config{Host: "unix:///nonexistent/docker.sock", StateDir: t.TempDir(), Issuer: agenttest.NewCA(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close()
	ctx := ctxT(t)
	if err := rt.Ping(ctx); !errdefs.IsUnavailable(err) {
		t.Errorf("Ping = %v, want unavailable", err)
	}
	if _, err := rt.List(ctx, nil); !errdefs.IsUnavailable(err) {
		t.Errorf("List = %v, want unavailable", err)
	}
}
