package docker_test

import (
	"archive/tar"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/client"

	"github.com/dockyard/dockyard/internal/agent"
	"github.com/dockyard/dockyard/internal/agent/agentclient"
	"github.com/dockyard/dockyard/internal/agent/agenttest"
	"github.com/dockyard/dockyard/internal/runtime/docker"
)

// envStarter is containers.EnvStarter (not imported, to keep this test's
// dependencies small).
type envStarter interface {
	StartWithEnv(ctx context.Context, id string, env map[string]string) error
}

var _ envStarter = (*docker.Runtime)(nil)

// readFromContainer reads one file through the archive endpoint; ok is
// false when the container has no such file.
func readFromContainer(t *testing.T, cli *client.Client, id, p string) (b []byte, mode os.FileMode, ok bool) {
	t.Helper()
	res, err := cli.CopyFromContainer(context.Background(), id, client.CopyFromContainerOptions{SourcePath: p})
	if cerrdefs.IsNotFound(err) {
		return nil, 0, false
	}
	if err != nil {
		t.Fatalf("reading %s from the container: %v", p, err)
	}
	defer res.Content.Close()
	tr := tar.NewReader(res.Content)
	h, err := tr.Next()
	if err != nil {
		t.Fatalf("reading %s from the container: %v", p, err)
	}
	b, _ = io.ReadAll(tr)
	return b, h.FileInfo().Mode().Perm(), true
}

// StartWithEnv's variables reach the agent (it reports the interpreter the
// start environment named) without showing in `docker inspect`; the file
// is gone once the agent runs, the HEC CA file is copied in, and a plain
// Start afterwards runs without them.
func TestStartWithEnv(t *testing.T) {
	cli := daemon(t)
	ca := agenttest.NewCA(t)
	rt := newRuntime(t, ca, newScope(), nil)
	ctx := ctxT(t)
	c, err := rt.Create(ctx, specFor(t, "startenv"))
	if err != nil {
		t.Fatal(err)
	}
	const python = "/no/such/python-from-start-env"
	const secret = "hec-secret-6c1f0e"
	caPEM := []byte("-----BEGIN CERTIFICATE-----\nMIIBdummy\n-----END CERTIFICATE-----\n")
	caFile := filepath.Join(t.TempDir(), "hec-ca.pem")
	if err := os.WriteFile(caFile, caPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"DOCKYARD_AGENT_PYTHON": python, agent.EnvHECToken: secret, agent.EnvHECCAFile: caFile}
	if err := rt.StartWithEnv(ctx, c.ID, env); err != nil {
		t.Fatal(err)
	}
	if env[agent.EnvHECCAFile] != caFile {
		t.Errorf("StartWithEnv changed the caller's map: %v", env)
	}
	c, _ = rt.Inspect(ctx, c.ID)
	info, err := agentclient.New(c.Endpoint, c.Token, ca.Client()).Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(info.RunnerError, python) {
		t.Errorf("/v1/info runner_error = %q, want the start environment's interpreter %s", info.RunnerError, python)
	}
	raw, err := cli.ContainerInspect(ctx, c.ID, client.ContainerInspectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{secret, python, caFile} {
		if strings.Contains(string(raw.Raw), s) {
			t.Errorf("docker inspect shows %q from the start environment", s)
		}
	}
	if !contains(raw.Container.Config.Cmd, docker.StartEnvFile) {
		t.Errorf("command %q does not pass %s", raw.Container.Config.Cmd, docker.StartEnvFile)
	}
	if b, _, ok := readFromContainer(t, cli, c.ID, docker.StartEnvFile); ok {
		t.Errorf("%s is still in the running container (%d bytes)", docker.StartEnvFile, len(b))
	}
	if b, _, ok := readFromContainer(t, cli, c.ID, docker.HECCAFile); !ok || string(b) != string(caPEM) {
		t.Errorf("%s in the container = %q (present %t), want the CA file's PEM", docker.HECCAFile, b, ok)
	}
	logs := containerLogs(t, rt, c.ID)
	if !strings.Contains(logs, "start environment applied") || !strings.Contains(logs, agent.EnvHECToken) || strings.Contains(logs, secret) {
		t.Errorf("logs: want the applied names without the secret:\n%s", logs)
	}

	// A plain Start: no file, the flag is a no-op.
	if err := rt.Stop(ctx, c.ID, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := rt.Start(ctx, c.ID); err != nil {
		t.Fatalf("a plain Start after StartWithEnv: %v", err)
	}
	c, _ = rt.Inspect(ctx, c.ID)
	if info, err := agentclient.New(c.Endpoint, c.Token, ca.Client()).Info(ctx); err != nil || strings.Contains(info.RunnerError, python) {
		t.Errorf("/v1/info after a plain Start = %+v, %v; want the default interpreter", info, err)
	}
	// A running container keeps its environment.
	if err := rt.StartWithEnv(ctx, c.ID, env); err != nil {
		t.Errorf("StartWithEnv of a running container = %v, want nil", err)
	}
	if b, _, ok := readFromContainer(t, cli, c.ID, docker.StartEnvFile); ok {
		t.Errorf("StartWithEnv of a running container wrote %s (%d bytes)", docker.StartEnvFile, len(b))
	}
}

// A failed start leaves no secrets in the container for a later Start.
func TestStartWithEnvFailureScrubs(t *testing.T) {
	cli := daemon(t)
	rt := newRuntime(t, agenttest.NewCA(t), newScope(), func(c *docker.Config) { c.StartTimeout = 3 * time.Second })
	ctx := ctxT(t)
	spec := specFor(t, "startenv-fail")
	spec.Args = []string{"--no-such-flag"} // the agent exits before reading the file
	c, err := rt.Create(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	const secret = "hec-secret-9a7b"
	if err := rt.StartWithEnv(ctx, c.ID, map[string]string{agent.EnvHECToken: secret}); err == nil {
		t.Fatal("StartWithEnv of an agent that exits = nil")
	}
	b, mode, ok := readFromContainer(t, cli, c.ID, docker.StartEnvFile)
	if ok && (len(b) != 0 || mode != 0o600) {
		t.Errorf("after a failed start %s holds %d bytes (mode %o), want it empty (0600) or gone", docker.StartEnvFile, len(b), mode)
	}
}

func containerLogs(t *testing.T, rt *docker.Runtime, id string) string {
	t.Helper()
	rc, err := rt.Logs(context.Background(), id, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, _ := io.ReadAll(rc)
	return string(b)
}
