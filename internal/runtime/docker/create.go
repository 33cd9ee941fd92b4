package docker

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"math"
	"net/netip"
	"path"
	"sort"
	"strings"
	"time"

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
		return runtime.Container{}, errdefs.Invalid(fmt.Sprintf("container %q: no image: name an image that holds the dockyard binary at %s", spec.Name, r.cfg.Entrypoint[0]))
	}
	if spec.Limits.CPUs < 0 || spec.Limits.MemoryBytes < 0 {
		return runtime.Container{}, errdefs.Invalid(fmt.Sprintf("container %q: limits must be 0 (unlimited) or more", spec.Name))
	}
	publish, err := netip.ParseAddr(r.cfg.PublishIP)
	if err != nil {
		return runtime.Container{}, errdefs.Invalid(fmt.Sprintf("docker runtime: publish address %q is not an IP address", r.cfg.PublishIP))
	}
	if _, err := r.cli.ImageInspect(ctx, spec.Image); err != nil {
		err = r.wrap(fmt.Sprintf("container %q: image %q", spec.Name, spec.Image), err)
		if errdefs.IsNotFound(err) {
			return runtime.Container{}, errdefs.NotFound(fmt.Sprintf("container %q: image %q is not on the Docker host: build or load it there first (docker images); the docker runtime never pulls", spec.Name, spec.Image))
		}
		return runtime.Container{}, err
	}
	certPEM, keyPEM, err := r.cfg.Issuer.IssueServer("dockyard-agent-"+spec.Name, []string{r.cfg.PublishIP, "localhost"}, r.cfg.CertTTL)
	if err != nil {
		return runtime.Container{}, fmt.Errorf("container %q: issuing the agent certificate: %w", spec.Name, err)
	}
	token := []byte(randomHex(32))
	archive, err := layout(spec, certPEM, keyPEM, token, r.cfg.ClientCAPEM)
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
	cfg := &container.Config{
		Image:        spec.Image,
		Entrypoint:   r.cfg.Entrypoint,
		Cmd:          r.agentArgs(spec.Args),
		Env:          envList(env),
		Labels:       labels,
		WorkingDir:   AgentRoot,
		ExposedPorts: network.PortSet{agentPort: {}},
	}
	host := &container.HostConfig{
		PortBindings: network.PortMap{agentPort: {{HostIP: publish, HostPort: ""}}},
		Resources: container.Resources{
			NanoCPUs: int64(math.Round(spec.Limits.CPUs * 1e9)),
			Memory:   spec.Limits.MemoryBytes,
		},
	}
	if spec.GPUs > 0 {
		host.Resources.DeviceRequests = []container.DeviceRequest{{Driver: "nvidia", Count: spec.GPUs, Capabilities: [][]string{{"gpu"}}}}
	}
	res, err := r.cli.ContainerCreate(ctx, client.ContainerCreateOptions{Name: r.dockerName(spec.Name), Config: cfg, HostConfig: host})
	if err != nil {
		err = r.wrap(fmt.Sprintf("container %q", spec.Name), err)
		if errdefs.IsConflict(err) {
			return runtime.Container{}, errdefs.Conflict(fmt.Sprintf("container name %q is in use on the Docker host (as %s): remove it first", spec.Name, r.dockerName(spec.Name)))
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
	if _, err := r.cli.CopyToContainer(ctx, res.ID, client.CopyToContainerOptions{DestinationPath: "/", Content: bytes.NewReader(archive), CopyUIDGID: true}); err != nil {
		undo()
		return runtime.Container{}, r.wrap(fmt.Sprintf("container %q: copying its files in", spec.Name), err)
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

// layout is the tar archive extracted at the container's / before its
// first start: the agent root's directories, the spec's files under it,
// and the secrets (0600) under SecretDir, with the client CA (clientCA,
// when set, 0644) beside them. Entries are owned by root in
// the archive; the daemon gives them to the image's user (CopyUIDGID).
func layout(spec runtime.Spec, certPEM, keyPEM, token, clientCA []byte) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	now := time.Now()
	dirs := map[string]int64{}
	addDir := func(p string, mode int64) {
		for d := p; d != "." && d != "/" && d != ""; d = path.Dir(d) {
			if _, ok := dirs[d]; !ok {
				dirs[d] = 0o755
			}
		}
		dirs[p] = mode
	}
	root := strings.TrimPrefix(AgentRoot, "/")
	for _, d := range []string{"notebooks/data", "app/model/data"} {
		addDir(root+"/"+d, 0o755)
	}
	secrets := strings.TrimPrefix(SecretDir, "/")
	addDir(secrets, 0o700)
	names := make([]string, 0, len(spec.Files))
	for p := range spec.Files {
		names = append(names, p)
		addDir(path.Dir(root+"/"+p), 0o755)
	}
	sort.Strings(names)
	dirNames := make([]string, 0, len(dirs))
	for d := range dirs {
		dirNames = append(dirNames, d)
	}
	sort.Strings(dirNames) // parents first
	for _, d := range dirNames {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: d + "/", Mode: dirs[d], ModTime: now}); err != nil {
			return nil, err
		}
	}
	add := func(name string, b []byte, mode int64) error {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: mode, Size: int64(len(b)), ModTime: now}); err != nil {
			return err
		}
		_, err := tw.Write(b)
		return err
	}
	for _, p := range names {
		if err := add(root+"/"+p, spec.Files[p], 0o644); err != nil {
			return nil, err
		}
	}
	for _, f := range []struct {
		name string
		b    []byte
	}{{"cert.pem", certPEM}, {"key.pem", keyPEM}, {"token", token}} {
		if err := add(secrets+"/"+f.name, f.b, 0o600); err != nil {
			return nil, err
		}
	}
	if len(clientCA) > 0 {
		if err := add(strings.TrimPrefix(ClientCAFile, "/"), clientCA, 0o644); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
