package docker

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/client"

	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/runtime"
)

// Start implements runtime.Runtime: it starts the container and waits until
// its agent answers /healthz over TLS, verified against the container's
// own certificate (presenting Config.ClientCert when set). A container that already runs is left alone.
//
// Secrets for one run go through StartWithEnv instead: a Docker
// container's environment is fixed when it is created and shown by
// `docker inspect` (see docs/docker.md).
func (r *Runtime) Start(ctx context.Context, id string) error {
	in, err := r.inspect(ctx, id)
	if err != nil {
		return err
	}
	if in.State != nil && in.State.Running {
		return nil
	}
	return r.start(ctx, id, in.Config.Labels[LabelName])
}

// start starts the stopped container id and waits for its agent.
func (r *Runtime) start(ctx context.Context, id, name string) error {
	if _, err := r.cli.ContainerStart(ctx, id, client.ContainerStartOptions{}); err != nil {
		return gpuStartError(name, r.wrap(fmt.Sprintf("container %q: starting it (see `docker logs %s`)", name, short(id)), err))
	}
	if err := r.waitHealthy(ctx, id, name); err != nil {
		timeout := 1
		_, _ = r.cli.ContainerStop(context.WithoutCancel(ctx), id, client.ContainerStopOptions{Timeout: &timeout})
		return err
	}
	r.log.Info("container started", "id", id, "name", name)
	return nil
}

func short(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

func (r *Runtime) waitHealthy(ctx context.Context, id, name string) error {
	certPEM, err := r.certPEM(ctx, id)
	if err != nil {
		return fmt.Errorf("container %q: its agent certificate: %w", name, err)
	}
	pool := x509.NewCertPool() // pin the container's own certificate
	if !pool.AppendCertsFromPEM(certPEM) {
		return fmt.Errorf("container %q: its certificate is not PEM", name)
	}
	tc := &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	if r.cfg.ClientCert != nil {
		tc.Certificates = []tls.Certificate{*r.cfg.ClientCert}
	}
	tr := &http.Transport{TLSClientConfig: tc}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr, Timeout: 2 * time.Second}
	ctx, cancel := context.WithTimeout(ctx, r.cfg.StartTimeout)
	defer cancel()
	var lastErr error
	for {
		in, err := r.inspect(ctx, id)
		if err != nil {
			if ctx.Err() != nil {
				return r.startTimeout(id, name, lastErr)
			}
			return err
		}
		if in.State == nil || !in.State.Running {
			code := 0
			if in.State != nil {
				code = in.State.ExitCode
			}
			tail := r.logTail(id)
			if strings.Contains(tail, "flag provided but not defined: -env-file") {
				tail += " (the image's dockyard binary is older than the server's, which passes --env-file: rebuild the image with the server's dockyard)"
			}
			return errdefs.Unavailablef("container %q: the agent exited with code %d while starting; check the image's %s and `docker logs %s`: %s",
				name, code, strings.Join(r.cfg.Entrypoint, " "), short(id), tail)
		}
		if ep := r.endpoint(in); ep == "" {
			lastErr = fmt.Errorf("port %d is not published yet", AgentPort)
		} else {
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, ep+"/healthz", nil)
			resp, err := hc.Do(req)
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					return nil
				}
				err = fmt.Errorf("/healthz answered %d", resp.StatusCode)
			}
			lastErr = err
		}
		select {
		case <-ctx.Done():
			return r.startTimeout(id, name, lastErr)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func (r *Runtime) startTimeout(id, name string, lastErr error) error {
	return errdefs.Unavailablef("container %q: the agent did not answer on its endpoint within %s (%w); check `docker logs %s`: %s",
		name, r.cfg.StartTimeout, lastErr, short(id), r.logTail(id))
}

// logTail is the end of the container's output, for error messages.
func (r *Runtime) logTail(id string) string {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	rc, err := r.cli.ContainerLogs(ctx, id, client.ContainerLogsOptions{ShowStdout: true, ShowStderr: true, Tail: "20"})
	if err != nil {
		return "(no logs: " + err.Error() + ")"
	}
	defer rc.Close()
	var buf bytes.Buffer
	_, _ = stdcopy.StdCopy(&buf, &buf, io.LimitReader(rc, 64<<10))
	return runtime.Tail(buf.Bytes())
}

// Stop implements runtime.Runtime: SIGTERM, SIGKILL after grace (rounded
// up to whole seconds, as Docker counts them).
func (r *Runtime) Stop(ctx context.Context, id string, grace time.Duration) error {
	in, err := r.inspect(ctx, id)
	if err != nil {
		return err
	}
	if in.State == nil || !in.State.Running && !in.State.Restarting && !in.State.Paused {
		return nil
	}
	secs := int(math.Ceil(grace.Seconds()))
	if _, err := r.cli.ContainerStop(ctx, id, client.ContainerStopOptions{Timeout: &secs}); err != nil {
		return r.wrap(fmt.Sprintf("container %q: stopping it", in.Config.Labels[LabelName]), err)
	}
	r.log.Info("container stopped", "id", id, "name", in.Config.Labels[LabelName])
	return nil
}

// Remove implements runtime.Runtime: it stops the container (RemoveGrace),
// deletes it with its anonymous volumes, and forgets its token.
func (r *Runtime) Remove(ctx context.Context, id string) error {
	if err := r.Stop(ctx, id, r.cfg.RemoveGrace); err != nil {
		if errdefs.IsNotFound(err) {
			return err
		}
		r.log.Warn("stopping before removal failed; removing by force", "id", id, "err", err)
	}
	if _, err := r.cli.ContainerRemove(ctx, id, client.ContainerRemoveOptions{Force: true, RemoveVolumes: true}); err != nil {
		err = r.wrap(fmt.Sprintf("removing container %q", id), err)
		if errdefs.IsNotFound(err) {
			return notFound(id)
		}
		if !strings.Contains(err.Error(), "already in progress") {
			return err
		}
	}
	r.removeState(id)
	r.log.Info("container removed", "id", id)
	return nil
}

// Logs implements runtime.Runtime: the Docker logs of the container (its
// agent's stdout and stderr, interleaved) since since.
func (r *Runtime) Logs(ctx context.Context, id string, since time.Time) (io.ReadCloser, error) {
	if _, err := r.inspect(ctx, id); err != nil {
		return nil, err
	}
	opts := client.ContainerLogsOptions{ShowStdout: true, ShowStderr: true}
	if !since.IsZero() {
		opts.Since = strconv.FormatInt(since.Unix(), 10) + "." + fmt.Sprintf("%09d", since.Nanosecond())
	}
	rc, err := r.cli.ContainerLogs(ctx, id, opts)
	if err != nil {
		return nil, r.wrap(fmt.Sprintf("container %q logs", id), err)
	}
	pr, pw := io.Pipe()
	go func() {
		_, err := stdcopy.StdCopy(pw, pw, rc)
		rc.Close()
		pw.CloseWithError(err)
	}()
	return &logReader{PipeReader: pr, body: rc}, nil
}

// logReader closes the Docker response too, so that an abandoned read
// does not leak the copying goroutine.
type logReader struct {
	*io.PipeReader
	body io.Closer
}

func (l *logReader) Close() error {
	l.body.Close()
	return l.PipeReader.Close()
}
