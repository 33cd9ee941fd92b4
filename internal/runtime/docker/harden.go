package docker

import (
	"archive/tar"
	"bytes"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"
	"github.com/moby/moby/api/types/network"

	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/runtime"
)

// parseUser parses a numeric UID:GID (or UID, with GID the same) and
// refuses root.
func parseUser(u string) (int, int, error) {
	us, gs, ok := strings.Cut(u, ":")
	if !ok {
		gs = us
	}
	uid, err1 := strconv.Atoi(us)
	gid, err2 := strconv.Atoi(gs)
	if err1 != nil || err2 != nil || uid < 0 || gid < 0 {
		return 0, 0, errdefs.Invalidf("docker runtime: user %q: give a numeric UID:GID such as %s", u, DefaultUser)
	}
	if uid == 0 {
		return 0, 0, errdefs.Invalidf("docker runtime: user %q is root: agents run as an unprivileged user such as %s", u, DefaultUser)
	}
	return uid, gid, nil
}

// limits are spec's limits, each 0 taken from the runtime's defaults, and
// where the memory limit is set.
func (r *Runtime) limits(l runtime.Limits) (runtime.Limits, string) {
	setting := "the container's memory limit"
	if l.MemoryBytes == 0 {
		l.MemoryBytes = r.cfg.Limits.MemoryBytes
		if r.cfg.LimitsSetting != "" {
			setting = r.cfg.LimitsSetting + ".memory_bytes"
		}
	}
	if l.CPUs == 0 {
		l.CPUs = r.cfg.Limits.CPUs
	}
	if l.MaxProcs == 0 {
		l.MaxProcs = r.cfg.Limits.MaxProcs
	}
	if l.MaxOpenFiles == 0 {
		l.MaxOpenFiles = r.cfg.Limits.MaxOpenFiles
	}
	return l, setting
}

// hostConfig is the hardened host configuration of a container: every
// capability dropped, no-new-privileges, a read-only root file system with
// volumes for the agent's root and its secrets and a tmpfs /tmp, the
// default bridge network (never the host's), the limits, no devices, and
// GPUs only as device requests: for the devices listed (each container its
// own), else by count (the NVIDIA Container Toolkit then gives every
// container the first GPUs: containers may share them).
func hostConfig(l runtime.Limits, gpus int, devices []string, ports network.PortMap) *container.HostConfig {
	h := &container.HostConfig{
		PortBindings:   ports,
		NetworkMode:    "bridge",
		CapDrop:        []string{"ALL"},
		SecurityOpt:    []string{"no-new-privileges:true"},
		ReadonlyRootfs: true,
		Privileged:     false,
		Tmpfs:          map[string]string{"/tmp": "rw,nosuid,nodev,size=1g,mode=1777"},
		Mounts: []mount.Mount{
			{Type: mount.TypeVolume, Target: AgentRoot},
			{Type: mount.TypeVolume, Target: SecretDir},
		},
		Resources: container.Resources{
			NanoCPUs: int64(math.Round(l.CPUs * 1e9)),
			Memory:   l.MemoryBytes,
		},
	}
	if l.MaxProcs > 0 {
		n := l.MaxProcs
		h.Resources.PidsLimit = &n
	}
	if l.MaxOpenFiles > 0 {
		h.Resources.Ulimits = []*container.Ulimit{{Name: "nofile", Soft: l.MaxOpenFiles, Hard: l.MaxOpenFiles}}
	}
	switch {
	case len(devices) > 0:
		h.Resources.DeviceRequests = []container.DeviceRequest{{Driver: "nvidia", DeviceIDs: slices.Clone(devices), Capabilities: [][]string{{"gpu"}}}}
	case gpus > 0:
		h.Resources.DeviceRequests = []container.DeviceRequest{{Driver: "nvidia", Count: gpus, Capabilities: [][]string{{"gpu"}}}}
	}
	return h
}

// checkHostConfig refuses what a Dockyard container must never get: the
// host's network, PID or IPC namespace, privileged mode, added
// capabilities, device mounts, or a writable root file system. It guards
// hostConfig against later edits.
func checkHostConfig(name string, h *container.HostConfig) error {
	var bad []string
	if h.Privileged {
		bad = append(bad, "privileged mode")
	}
	if len(h.Resources.Devices) > 0 || len(h.Resources.DeviceCgroupRules) > 0 {
		bad = append(bad, "device mounts (GPUs are given only as device requests)")
	}
	if len(h.CapAdd) > 0 {
		bad = append(bad, "added capabilities")
	}
	if h.NetworkMode.IsHost() || h.PidMode.IsHost() || h.IpcMode.IsHost() || h.UTSMode.IsHost() {
		bad = append(bad, "a host namespace")
	}
	if !h.ReadonlyRootfs {
		bad = append(bad, "a writable root file system")
	}
	if len(bad) > 0 {
		return errdefs.Invalidf("container %q: refusing %s", name, strings.Join(bad, ", "))
	}
	return nil
}

// tarBuilder writes a tar whose entries belong to the agent's user.
type tarBuilder struct {
	buf      bytes.Buffer
	tw       *tar.Writer
	uid, gid int
	now      time.Time
}

func (r *Runtime) newTar() *tarBuilder {
	t := &tarBuilder{uid: r.uid, gid: r.gid, now: time.Now()}
	t.tw = tar.NewWriter(&t.buf)
	return t
}

func (t *tarBuilder) dir(name string, mode int64) error {
	return t.tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: name + "/", Mode: mode, ModTime: t.now, Uid: t.uid, Gid: t.gid})
}

func (t *tarBuilder) file(name string, b []byte, mode int64) error {
	if err := t.tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: mode, Size: int64(len(b)), ModTime: t.now, Uid: t.uid, Gid: t.gid}); err != nil {
		return err
	}
	_, err := t.tw.Write(b)
	return err
}

func (t *tarBuilder) bytes() ([]byte, error) {
	if err := t.tw.Close(); err != nil {
		return nil, err
	}
	return t.buf.Bytes(), nil
}
