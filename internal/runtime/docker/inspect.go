package docker

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"

	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/runtime"
)

// inspect returns Docker's view of a container of this runtime (managed,
// same scope); ErrNotFound for anything else.
func (r *Runtime) inspect(ctx context.Context, id string) (container.InspectResponse, error) {
	if id == "" {
		return container.InspectResponse{}, notFound(id)
	}
	res, err := r.cli.ContainerInspect(ctx, id, client.ContainerInspectOptions{})
	if err != nil {
		err = r.wrap(fmt.Sprintf("container %q", id), err)
		if errdefs.IsNotFound(err) {
			return container.InspectResponse{}, notFound(id)
		}
		return container.InspectResponse{}, err
	}
	in := res.Container
	if in.Config == nil || !r.ours(in.Config.Labels) || in.ID != id {
		// Not one of ours, or addressed by a name or id prefix: Dockyard
		// addresses its containers by full id only.
		return container.InspectResponse{}, notFound(id)
	}
	return in, nil
}

func (r *Runtime) ours(labels map[string]string) bool {
	return labels[runtime.LabelManaged] == "true" && labels[LabelScope] == r.cfg.Scope && labels[LabelName] != ""
}

// Inspect implements runtime.Runtime.
func (r *Runtime) Inspect(ctx context.Context, id string) (runtime.Container, error) {
	in, err := r.inspect(ctx, id)
	if err != nil {
		return runtime.Container{}, err
	}
	return r.container(ctx, in), nil
}

// List implements runtime.Runtime: the daemon filters by label.
func (r *Runtime) List(ctx context.Context, labels map[string]string) ([]runtime.Container, error) {
	f := client.Filters{}
	f.Add("label", runtime.LabelManaged+"=true")
	if r.cfg.Scope != "" {
		f.Add("label", LabelScope+"="+r.cfg.Scope)
	}
	for k, v := range labels {
		f.Add("label", k+"="+v)
	}
	res, err := r.cli.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: f})
	if err != nil {
		return nil, r.wrap("listing containers", err)
	}
	var out []runtime.Container
	for _, s := range res.Items {
		if !r.ours(s.Labels) || !runtime.MatchLabels(s.Labels, labels) {
			continue
		}
		in, err := r.inspect(ctx, s.ID)
		if errdefs.IsNotFound(err) {
			continue // removed meanwhile
		}
		if err != nil {
			return nil, err
		}
		out = append(out, r.container(ctx, in))
	}
	return out, nil
}

// container maps Docker's view to runtime.Container.
func (r *Runtime) container(ctx context.Context, in container.InspectResponse) runtime.Container {
	labels := map[string]string{}
	for k, v := range in.Config.Labels {
		if k != LabelName && k != LabelScope {
			labels[k] = v
		}
	}
	c := runtime.Container{ID: in.ID, Name: in.Config.Labels[LabelName], Image: in.Config.Image,
		Labels: labels, State: runtime.StateCreated, Token: r.token(ctx, in.ID)}
	c.Created = parseTime(in.Created)
	if in.State != nil {
		c.Started = parseTime(in.State.StartedAt)
		switch in.State.Status {
		case container.StateRunning, container.StatePaused, container.StateRestarting:
			c.State = runtime.StateRunning
			c.Endpoint = r.endpoint(in)
		case container.StateCreated:
			if !c.Started.IsZero() {
				c.State = runtime.StateExited // a start that failed
			}
		default: // exited, dead, removing
			c.State = runtime.StateExited
		}
	}
	return c
}

// endpoint is https://PublishIP:<host port> of the agent port.
func (r *Runtime) endpoint(in container.InspectResponse) string {
	if in.NetworkSettings == nil {
		return ""
	}
	for _, b := range in.NetworkSettings.Ports[agentPort] {
		if b.HostPort == "" {
			continue
		}
		if b.HostIP.IsValid() && b.HostIP.String() != r.cfg.PublishIP {
			continue
		}
		if _, err := strconv.Atoi(b.HostPort); err == nil {
			return "https://" + hostPort(r.cfg.PublishIP, b.HostPort)
		}
	}
	return ""
}

func hostPort(ip, port string) string {
	if strings.Contains(ip, ":") {
		return "[" + ip + "]:" + port
	}
	return ip + ":" + port
}

func parseTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil || t.Year() <= 1 {
		return time.Time{}
	}
	return t.UTC()
}

// token returns the container's agent token from StateDir, else from the
// container itself (cached); "" when neither has it.
func (r *Runtime) token(ctx context.Context, id string) string {
	if b, err := os.ReadFile(r.statePath(id, ".token")); err == nil {
		return string(b)
	}
	r.mu.Lock()
	tok, ok := r.tokens[id]
	r.mu.Unlock()
	if ok {
		return tok
	}
	b, err := r.readFile(ctx, id, SecretDir+"/token")
	if err != nil {
		r.log.Warn("the container's token is neither in the state directory nor readable from the container", "id", id, "err", err)
		return ""
	}
	r.mu.Lock()
	r.tokens[id] = string(b)
	r.mu.Unlock()
	return string(b)
}

// certPEM returns the container's agent certificate, which Start pins.
func (r *Runtime) certPEM(ctx context.Context, id string) ([]byte, error) {
	if b, err := os.ReadFile(r.statePath(id, ".cert.pem")); err == nil {
		return b, nil
	}
	return r.readFile(ctx, id, SecretDir+"/cert.pem")
}

// CertPEM returns the container's agent certificate, which clients may pin.
func (r *Runtime) CertPEM(ctx context.Context, id string) ([]byte, error) {
	if _, err := r.inspect(ctx, id); err != nil {
		return nil, err
	}
	return r.certPEM(ctx, id)
}

// readFile reads one regular file out of the container (stopped or not).
func (r *Runtime) readFile(ctx context.Context, id, p string) ([]byte, error) {
	res, err := r.cli.CopyFromContainer(ctx, id, client.CopyFromContainerOptions{SourcePath: p})
	if err != nil {
		return nil, r.wrap(fmt.Sprintf("container %s: reading %s", id, p), err)
	}
	defer res.Content.Close()
	tr := tar.NewReader(res.Content)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil, errdefs.NotFoundf("container %s: %s is not in its archive", id, p)
		}
		if err != nil {
			return nil, fmt.Errorf("container %s: reading %s: %w", id, p, err)
		}
		if h.Typeflag == tar.TypeReg {
			return io.ReadAll(io.LimitReader(tr, 1<<20))
		}
	}
}

// ImageDigest returns the content digest (the image id, sha256:...) of an
// image on the Docker host.
func (r *Runtime) ImageDigest(ctx context.Context, image string) (string, error) {
	in, err := r.cli.ImageInspect(ctx, image)
	if err != nil {
		return "", r.wrap(fmt.Sprintf("image %q", image), err)
	}
	return in.ID, nil
}
