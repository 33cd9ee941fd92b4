package docker

import (
	"bytes"
	"context"
	"fmt"
	"net/netip"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"

	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/runtime"
)

// agentPort is the agent's port inside the container.
var agentPort = network.MustParsePort(fmt.Sprintf("%d/tcp", AgentPort))

// Create implements runtime.Runtime: it creates the Docker container (not
// started) and copies its certificate, key, token and files into it.
func (r *Runtime) Create(ctx context.Context, spec runtime.Spec) (runtime.Container, error) {
	if err := runtime.ValidateSpec(spec); err != nil {
		return runtime.Container{}, err
	}
	if spec.Image == "" {
		return runtime.Container{}, errdefs.Invalidf("container %q: no image: name an image that holds the dockyard binary at %s", spec.Name, r.cfg.Entrypoint[0])
	}
	if spec.Limits.CPUs < 0 || spec.Limits.MemoryBytes < 0 || spec.Limits.MaxProcs < 0 || spec.Limits.MaxOpenFiles < 0 {
		return runtime.Container{}, errdefs.Invalidf("container %q: limits must be 0 (unlimited) or more", spec.Name)
	}
	publish, err := netip.ParseAddr(r.cfg.PublishIP)
	if err != nil {
		return runtime.Container{}, errdefs.Invalidf("docker runtime: publish address %q is not an IP address", r.cfg.PublishIP)
	}
	if _, err := r.cli.ImageInspect(ctx, spec.Image); err != nil {
		err = r.wrap(fmt.Sprintf("container %q: image %q", spec.Name, spec.Image), err)
		if errdefs.IsNotFound(err) {
			return runtime.Container{}, errdefs.NotFoundf("container %q: image %q is not on the Docker host: build or load it there first (docker images); the docker runtime never pulls", spec.Name, spec.Image)
		}
		return runtime.Container{}, err
	}
	certPEM, keyPEM, err := agentCert(spec, r.cfg.Issuer, []string{r.cfg.PublishIP, "localhost"}, r.cfg.CertTTL)
	if err != nil {
		return runtime.Container{}, fmt.Errorf("container %q: issuing the agent certificate: %w", spec.Name, err)
	}
	token := []byte(randomHex(32))
	rootTar, secretTar, err := r.layout(spec, certPEM, keyPEM, token, r.cfg.ClientCAPEM)
	if err != nil {
		return runtime.Container{}, fmt.Errorf("container %q: %w", spec.Name, err)
	}

	labels := runtime.WithManaged(spec.Labels)
	labels[LabelName] = spec.Name
	if r.cfg.Scope != "" {
		labels[LabelScope] = r.cfg.Scope
	}
	env := map[string]string{}
	for k, v := range spec.Env {
		env[k] = v
	}
	env["DOCKYARD_CONTAINER"] = spec.Name
	env["HOME"] = "/tmp" // the root file system is read-only
	gpuEnv(env, spec.GPUs)
	lim, setting := r.limits(spec.Limits)
	if lim.MemoryBytes > 0 {
		env["DOCKYARD_MEMORY_LIMIT"] = strconv.FormatInt(lim.MemoryBytes, 10)
		env["DOCKYARD_MEMORY_LIMIT_SETTING"] = setting
	}
	cfg := &container.Config{
		User:         r.cfg.User,
		Image:        spec.Image,
		Entrypoint:   r.cfg.Entrypoint,
		Cmd:          r.agentArgs(spec.Args),
		Env:          envList(env),
		Labels:       labels,
		WorkingDir:   AgentRoot,
		ExposedPorts: network.PortSet{agentPort: {}},
	}
	if len(spec.GPUDevices) > 0 && len(spec.GPUDevices) != spec.GPUs {
		return runtime.Container{}, errdefs.Invalidf("container %q asks for %d GPUs but names %d devices (%v)", spec.Name, spec.GPUs, len(spec.GPUDevices), spec.GPUDevices)
	}
	host := hostConfig(lim, spec.GPUs, spec.GPUDevices, network.PortMap{agentPort: {{HostIP: publish, HostPort: ""}}})
	if err := checkHostConfig(spec.Name, host); err != nil {
		return runtime.Container{}, err
	}
	res, err := r.cli.ContainerCreate(ctx, client.ContainerCreateOptions{Name: r.dockerName(spec.Name), Config: cfg, HostConfig: host})
	if err != nil {
		err = r.wrap(fmt.Sprintf("container %q", spec.Name), err)
		if errdefs.IsConflict(err) {
			return runtime.Container{}, errdefs.Conflictf("container name %q is in use on the Docker host (as %s): remove it first", spec.Name, r.dockerName(spec.Name))
		}
		return runtime.Container{}, err
	}
	for _, w := range res.Warnings {
		r.log.Warn("docker warns about the new container", "name", spec.Name, "warning", w)
	}
	undo := func() {
		_, _ = r.cli.ContainerRemove(context.WithoutCancel(ctx), res.ID, client.ContainerRemoveOptions{Force: true, RemoveVolumes: true})
		r.removeState(res.ID)
	}
	// The root file system is read-only: the files go into the volumes.
	for _, in := range []struct {
		dest string
		tar  []byte
	}{{AgentRoot, rootTar}, {SecretDir, secretTar}} {
		if _, err := r.cli.CopyToContainer(ctx, res.ID, client.CopyToContainerOptions{DestinationPath: in.dest, Content: bytes.NewReader(in.tar), CopyUIDGID: false}); err != nil { // owners as in the tar: the agent's user
			undo()
			return runtime.Container{}, r.wrap(fmt.Sprintf("container %q: copying its files into %s", spec.Name, in.dest), err)
		}
	}
	if err := r.writeState(res.ID, token, certPEM); err != nil {
		undo()
		return runtime.Container{}, err
	}
	c, err := r.Inspect(ctx, res.ID)
	if err != nil {
		undo()
		return runtime.Container{}, err
	}
	r.log.Info("container created", "id", res.ID, "name", spec.Name, "image", spec.Image, "gpus", spec.GPUs)
	return c, nil
}

// agentArgs are the arguments after the entrypoint.
func (r *Runtime) agentArgs(extra []string) []string {
	args := []string{"agent", "--addr", fmt.Sprintf("0.0.0.0:%d", AgentPort),
		"--cert", SecretDir + "/cert.pem", "--key", SecretDir + "/key.pem",
		"--token-file", SecretDir + "/token", "--env-file", StartEnvFile, "--root", AgentRoot}
	if len(r.cfg.ClientCAPEM) > 0 {
		args = append(args, "--client-ca", ClientCAFile)
	}
	if r.cfg.Python != "" {
		args = append(args, "--python", r.cfg.Python)
	}
	return append(args, extra...)
}

// envList is env as KEY=VALUE in key order.
func envList(env map[string]string) []string {
	out := make([]string, 0, len(env))
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out
}

// layout returns the tars of the agent's root (extracted at AgentRoot:
// notebooks/, notebooks/data/, app/model/data/, .dockyard/tmp/ and
// spec.Files) and of its
// secrets (at SecretDir: cert.pem, key.pem, token, client-ca.pem, start/),
// every entry owned by the agent's user.
func (r *Runtime) layout(spec runtime.Spec, certPEM, keyPEM, token, clientCA []byte) (root, secrets []byte, err error) {
	rt := r.newTar()
	dirs := map[string]bool{}
	var addDir func(d string) error
	addDir = func(d string) error {
		if d == "." || d == "" || dirs[d] {
			return nil
		}
		if err := addDir(path.Dir(d)); err != nil {
			return err
		}
		dirs[d] = true
		return rt.dir(d, 0o755)
	}
	// .dockyard/tmp: the agent's scratch space (the root file system is
	// read-only, and the volume's top directory belongs to root).
	for _, d := range []string{"notebooks/data", "app/model/data", ".dockyard/tmp"} {
		if err := addDir(d); err != nil {
			return nil, nil, err
		}
	}
	names := make([]string, 0, len(spec.Files))
	for p := range spec.Files {
		names = append(names, p)
	}
	sort.Strings(names)
	for _, p := range names {
		if err := addDir(path.Dir(p)); err != nil {
			return nil, nil, err
		}
		if err := rt.file(p, spec.Files[p], 0o644); err != nil {
			return nil, nil, err
		}
	}
	if root, err = rt.bytes(); err != nil {
		return nil, nil, err
	}
	st := r.newTar()
	if err := st.dir(strings.TrimPrefix(StartDir, SecretDir+"/"), 0o700); err != nil {
		return nil, nil, err
	}
	files := []tarFile{{SecretDir + "/cert.pem", certPEM, 0o600}, {SecretDir + "/key.pem", keyPEM, 0o600}, {SecretDir + "/token", token, 0o600}}
	if len(clientCA) > 0 {
		files = append(files, tarFile{ClientCAFile, clientCA, 0o644})
	}
	for _, f := range files {
		if err := st.file(strings.TrimPrefix(f.path, SecretDir+"/"), f.b, f.mode); err != nil {
			return nil, nil, err
		}
	}
	secrets, err = st.bytes()
	return root, secrets, err
}
