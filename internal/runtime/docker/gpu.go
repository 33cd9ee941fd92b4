package docker

import (
	"context"
	"slices"
	"strings"

	"github.com/moby/moby/client"

	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/runtime"
)

// GPU environment. The NVIDIA Container Toolkit's hook reads
// NVIDIA_VISIBLE_DEVICES from a container's environment (and many CUDA
// images set it to "all" in theirs): a container created without GPUs
// gets "void", so that no device is injected whatever its image says, and
// an empty NVIDIA_DRIVER_CAPABILITIES, so that no driver library is
// mounted either. A container with GPUs gets them only as device
// requests (hostConfig), never through these variables.
const (
	EnvVisibleDevices     = "NVIDIA_VISIBLE_DEVICES"
	EnvDriverCapabilities = "NVIDIA_DRIVER_CAPABILITIES"
	noGPUs                = "void"
)

// gpuDriver is the device driver of the device requests that give GPUs.
const gpuDriver = "nvidia"

var _ runtime.GPUInventory = (*Runtime)(nil)

// gpuEnv sets (or, with GPUs, removes) the variables that keep a container
// without GPUs from getting any through its image's environment.
func gpuEnv(env map[string]string, gpus int) {
	if gpus > 0 {
		delete(env, EnvVisibleDevices)
		delete(env, EnvDriverCapabilities)
		return
	}
	env[EnvVisibleDevices] = noGPUs
	env[EnvDriverCapabilities] = ""
}

// GPUs implements runtime.GPUInventory from `docker info`: the host is a
// pool when the engine has the nvidia runtime or discovered NVIDIA devices
// (CDI, Engine 28 and later), with the devices it names; the Engine does
// not count GPUs, so Capacity and Allocatable are -1 (unknown) unless the
// host's GPUs are listed (Config.GPUDevices): then they are the pool, its
// devices and its size. A host with none of these has no pool.
func (r *Runtime) GPUs(ctx context.Context) ([]runtime.GPUPool, error) {
	res, err := r.cli.Info(ctx, client.InfoOptions{})
	if err != nil {
		return nil, r.wrap("docker runtime: reading the engine's runtimes and devices", err)
	}
	info := res.Info
	var devices []string
	for _, d := range info.DiscoveredDevices {
		if strings.Contains(strings.ToLower(d.ID), "nvidia") {
			devices = append(devices, d.ID)
		}
	}
	if n := len(r.cfg.GPUDevices); n > 0 {
		return []runtime.GPUPool{{Runtime: "docker", Node: info.Name, Resource: gpuDriver, Capacity: n, Allocatable: n, Devices: slices.Clone(r.cfg.GPUDevices)}}, nil
	}
	_, hasRuntime := info.Runtimes[gpuDriver]
	if !hasRuntime && len(devices) == 0 {
		return []runtime.GPUPool{}, nil
	}
	slices.Sort(devices)
	return []runtime.GPUPool{{Runtime: "docker", Node: info.Name, Resource: gpuDriver, Capacity: -1, Allocatable: -1, Devices: devices}}, nil
}

// gpuStartError explains the engine's refusal to start a container whose
// device request no driver on the host serves.
func gpuStartError(name string, err error) error {
	if err == nil || !strings.Contains(err.Error(), "could not select device driver") {
		return err
	}
	return errdefs.Unavailablef("container %q asks for GPUs, and the Docker Engine on this host cannot give any (%w): "+
		"install the NVIDIA driver and the NVIDIA Container Toolkit (nvidia-container-toolkit) on the Docker host, "+
		"run `nvidia-ctk runtime configure --runtime=docker` and restart dockerd; or start the container without GPUs", name, err)
}
