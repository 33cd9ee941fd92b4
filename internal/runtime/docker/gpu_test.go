package docker_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/moby/moby/client"

	"github.com/dockyard/dockyard/internal/agent/agenttest"
	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/runtime/docker"
)

// A container started without GPUs has none: no device request, and
// NVIDIA_VISIBLE_DEVICES=void with no driver capabilities in its
// environment, so that the NVIDIA hook injects nothing even where the
// image (or the spec) asks for every GPU. The agent still starts.
func TestNoGPUsMeansNone(t *testing.T) {
	cli := daemon(t)
	rt := newRuntime(t, agenttest.NewCA(t), newScope(), nil)
	ctx := ctxT(t)
	spec := specFor(t, "nogpu")
	spec.Env = map[string]string{docker.EnvVisibleDevices: "all", docker.EnvDriverCapabilities: "all"}
	c, err := rt.Create(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	in, err := cli.ContainerInspect(ctx, c.ID, client.ContainerInspectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	env := in.Container.Config.Env
	if !slices.Contains(env, docker.EnvVisibleDevices+"=void") || !slices.Contains(env, docker.EnvDriverCapabilities+"=") {
		t.Errorf("env %v lacks %s=void and an empty %s", env, docker.EnvVisibleDevices, docker.EnvDriverCapabilities)
	}
	for _, kv := range env {
		if strings.HasSuffix(kv, "=all") {
			t.Errorf("env keeps %q", kv)
		}
	}
	if dr := in.Container.HostConfig.DeviceRequests; len(dr) != 0 {
		t.Errorf("device requests %+v, want none", dr)
	}
	if err := rt.Start(ctx, c.ID); err != nil {
		t.Fatalf("a container without GPUs does not start: %v", err)
	}
}

// A container with GPUs gets them as a device request only: none of the
// variables that keep GPUs out. On a host whose engine cannot give GPUs
// (no NVIDIA Container Toolkit) its start is refused as Unavailable,
// naming what to install.
func TestGPUContainerOnHostWithoutToolkit(t *testing.T) {
	cli := daemon(t)
	rt := newRuntime(t, agenttest.NewCA(t), newScope(), nil)
	ctx := ctxT(t)
	spec := specFor(t, "gpus")
	spec.GPUs = 1
	c, err := rt.Create(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	in, err := cli.ContainerInspect(ctx, c.ID, client.ContainerInspectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, kv := range in.Container.Config.Env {
		if strings.HasPrefix(kv, docker.EnvVisibleDevices+"=") || strings.HasPrefix(kv, docker.EnvDriverCapabilities+"=") {
			t.Errorf("a GPU container's env has %q", kv)
		}
	}
	pools, err := rt.GPUs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(pools) > 0 {
		t.Skipf("this engine has GPUs (%+v): the refusal on a host without them is not tested here", pools)
	}
	err = rt.Start(ctx, c.ID)
	if !errdefs.IsUnavailable(err) || !strings.Contains(err.Error(), "nvidia-container-toolkit") || !strings.Contains(err.Error(), `"gpus"`) {
		t.Fatalf("start with a GPU on a host without the toolkit = %v; want Unavailable naming nvidia-container-toolkit", err)
	}
}

// The inventory agrees with `docker info`: a pool exactly when the engine
// has the nvidia runtime or discovered NVIDIA devices.
func TestGPUInventory(t *testing.T) {
	cli := daemon(t)
	rt := newRuntime(t, agenttest.NewCA(t), newScope(), nil)
	ctx := ctxT(t)
	info, err := cli.Info(ctx, client.InfoOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_, want := info.Info.Runtimes["nvidia"]
	for _, d := range info.Info.DiscoveredDevices {
		want = want || strings.Contains(strings.ToLower(d.ID), "nvidia")
	}
	pools, err := rt.GPUs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want != (len(pools) == 1) || len(pools) > 1 {
		t.Fatalf("GPUs = %+v; engine runtimes %v, devices %v", pools, info.Info.Runtimes, info.Info.DiscoveredDevices)
	}
	if want && (pools[0].Runtime != "docker" || pools[0].Resource != "nvidia" || pools[0].Node != info.Info.Name || pools[0].Capacity != -1) {
		t.Errorf("pool = %+v", pools[0])
	}
	t.Logf("GPU pools of this engine: %+v", pools)
}

// With the host's GPUs listed (containers.gpu.docker_devices), the pool
// is those devices, counted.
func TestListedGPUDevicesAreThePool(t *testing.T) {
	rt := newRuntime(t, agenttest.NewCA(t), newScope(), func(c *docker.Config) { c.GPUDevices = []string{"0", "1"} })
	pools, err := rt.GPUs(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(pools) != 1 || pools[0].Capacity != 2 || pools[0].Allocatable != 2 || strings.Join(pools[0].Devices, ",") != "0,1" {
		t.Errorf("pools = %+v, want one of devices 0 and 1", pools)
	}
}
