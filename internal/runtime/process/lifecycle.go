package process

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/dockyard/dockyard/internal/errdefs"
)

// Start implements runtime.Runtime: it starts the agent and waits until it
// answers /healthz over TLS (verified against the container's certificate,
// presenting Config.ClientCert when set).
func (r *Runtime) Start(ctx context.Context, id string) error {
	return r.StartWithEnv(ctx, id, nil)
}

// StartWithEnv starts the container like Start, adding env to its agent's
// environment for this run only: unlike runtime.Spec.Env it is neither
// stored in container.json nor logged, so it may carry secrets (the trace
// exporter's or a HEC token). A container that already runs keeps the
// environment it was started with.
func (r *Runtime) StartWithEnv(ctx context.Context, id string, env map[string]string) error {
	r.mu.Lock()
	rec, err := r.load(id)
	if err != nil {
		r.mu.Unlock()
		return err
	}
	if r.running(rec) {
		r.mu.Unlock()
		return nil
	}
	kid, err := r.spawn(rec, env)
	r.mu.Unlock()
	if err != nil {
		return err
	}
	if err := r.waitHealthy(ctx, rec, kid); err != nil {
		signalGroup(rec.PID, syscall.SIGKILL)
		return err
	}
	r.log.Info("container started", "id", rec.ID, "name", rec.Name, "pid", rec.PID, "port", rec.Port)
	return nil
}

func freePort(prefer int) (int, error) {
	if prefer > 0 {
		if ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", prefer)); err == nil {
			ln.Close()
			return prefer, nil
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

func (r *Runtime) spawn(rec *record, extra map[string]string) (*child, error) {
	d := r.dir(rec.ID)
	port, err := freePort(rec.Port)
	if err != nil {
		return nil, errdefs.Unavailablef("container %q: no free port on 127.0.0.1: %w", rec.Name, err)
	}
	cmd, err := r.agentCmd(rec, port, extra)
	if err != nil {
		return nil, err
	}
	logf, err := os.OpenFile(filepath.Join(d, "agent.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("container %q: log file: %w", rec.Name, err)
	}
	defer logf.Close() // the child holds its own descriptor
	cmd.Stdout, cmd.Stderr = logf, logf
	// Its own process group. Unsandboxed, nothing ties it to the server: a
	// restarted server adopts it. Sandboxed, bwrap ends it with the server
	// (--die-with-parent).
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, errdefs.Unavailablef("container %q: starting the agent: %w", rec.Name, err)
	}
	// Its start time tells it from a later process with the same pid. Read
	// it before Wait can reap it: until then /proc holds it even if it
	// has already exited.
	_, start, err := procStat(cmd.Process.Pid)
	kid := &child{cmd: cmd, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(kid.done) }()
	if err != nil {
		signalGroup(cmd.Process.Pid, syscall.SIGKILL)
		return nil, errdefs.Unavailablef("container %q: reading the agent's start time: %w", rec.Name, err)
	}
	rec.PID, rec.PIDStart, rec.Port, rec.Started = cmd.Process.Pid, start, port, time.Now().UTC()
	rec.Sandboxed = r.sandboxed
	if err := r.save(rec); err != nil {
		signalGroup(rec.PID, syscall.SIGKILL)
		return nil, err
	}
	r.kids[rec.ID] = kid
	return kid, nil
}

func (r *Runtime) waitHealthy(ctx context.Context, rec *record, kid *child) error {
	certPEM, err := os.ReadFile(filepath.Join(r.dir(rec.ID), "tls", "cert.pem"))
	if err != nil {
		return fmt.Errorf("container %q: %w", rec.Name, err)
	}
	pool := x509.NewCertPool() // pin the container's own certificate
	if !pool.AppendCertsFromPEM(certPEM) {
		return fmt.Errorf("container %q: its certificate is not PEM", rec.Name)
	}
	tc := &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	if r.cfg.ClientCert != nil {
		tc.Certificates = []tls.Certificate{*r.cfg.ClientCert}
	}
	tr := &http.Transport{TLSClientConfig: tc}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr, Timeout: 2 * time.Second}
	url := fmt.Sprintf("https://127.0.0.1:%d/healthz", rec.Port)
	ctx, cancel := context.WithTimeout(ctx, r.cfg.StartTimeout)
	defer cancel()
	var lastErr error
	for {
		req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
		resp, err := hc.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("/healthz answered %d", resp.StatusCode)
		}
		lastErr = err
		select {
		case <-kid.done:
			return errdefs.Unavailablef("container %q: the agent exited while starting: %s", rec.Name, r.logTail(rec.ID))
		case <-ctx.Done():
			return errdefs.Unavailablef("container %q: the agent did not answer within %s (%w): %s", rec.Name, r.cfg.StartTimeout, lastErr, r.logTail(rec.ID))
		case <-time.After(25 * time.Millisecond):
		}
	}
}

func (r *Runtime) logTail(id string) string {
	b, _ := os.ReadFile(filepath.Join(r.dir(id), "agent.log"))
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return strings.TrimSpace(string(b))
}

// Stop implements runtime.Runtime: SIGTERM to the agent's process group,
// SIGKILL after grace.
func (r *Runtime) Stop(ctx context.Context, id string, grace time.Duration) error {
	r.mu.Lock()
	rec, err := r.load(id)
	r.mu.Unlock()
	if err != nil {
		return err
	}
	if !r.running(rec) {
		return nil
	}
	r.terminate(rec)
	if !waitGone(rec.PID, rec.PIDStart, grace) {
		r.log.Warn("container did not stop in time; killing it", "id", id, "grace", grace)
		signalGroup(rec.PID, syscall.SIGKILL)
		if !waitGone(rec.PID, rec.PIDStart, 5*time.Second) {
			return errdefs.Unavailablef("container %q: process %d survived SIGKILL", rec.Name, rec.PID)
		}
	}
	r.log.Info("container stopped", "id", id, "name", rec.Name)
	return nil
}

// Logs implements runtime.Runtime. Lines are kept when their slog time= is
// at or after since; lines without a time (a crash's output) go with the
// line before them.
func (r *Runtime) Logs(ctx context.Context, id string, since time.Time) (io.ReadCloser, error) {
	if _, err := r.load(id); err != nil {
		return nil, err
	}
	f, err := os.Open(filepath.Join(r.dir(id), "agent.log"))
	if os.IsNotExist(err) {
		return io.NopCloser(bytes.NewReader(nil)), nil
	}
	if err != nil {
		return nil, fmt.Errorf("container %q logs: %w", id, err)
	}
	if since.IsZero() {
		return f, nil
	}
	defer f.Close()
	var out bytes.Buffer
	keep := false
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if t, ok := lineTime(line); ok {
			keep = !t.Before(since)
		}
		if keep {
			out.WriteString(line)
			out.WriteByte('\n')
		}
	}
	return io.NopCloser(&out), sc.Err()
}

func lineTime(line string) (time.Time, bool) {
	rest, ok := strings.CutPrefix(line, "time=")
	if !ok {
		return time.Time{}, false
	}
	if i := strings.IndexByte(rest, ' '); i > 0 {
		rest = rest[:i]
	}
	t, err := time.Parse(time.RFC3339Nano, strings.Trim(rest, `"`))
	return t, err == nil
}
