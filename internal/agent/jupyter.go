package agent

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dockyard/dockyard/internal/errdefs"
)

// The Jupyter server of a development container.
//
// With Config.JupyterBaseURL set (--jupyter-base-url /jupyter/OWNER/NAME/),
// the agent starts a Jupyter server as its child when one is installed:
// Config.Jupyter names the program, else jupyter-lab and then
// jupyter-notebook are looked for on PATH. It runs with the agent's
// environment in the agent's sandbox, listens on a Unix socket in the
// container's state directory (.dockyard/jupyter/jupyter.sock, mode 0600),
// serves the container's notebooks directory under the base URL, and
// accepts only a token the agent draws afresh at each start of Jupyter and
// never hands out: the agent's own API proxies every request under the base
// URL (bearer token and, from the server, mutual TLS, as for every agent
// call) and adds the Jupyter token itself. So the server and, through its
// proxy, the container's owner reach Jupyter only over the channel the
// server already authenticates; nothing listens on a network port.
//
// A Jupyter that exits is started again (a fresh token each time) after
// a pause that grows to 30 s. GET /v1/jupyter reports its state and its
// activity (Jupyter's /api/status and the agent's own last job), which the
// server's idle culling reads.

// JupyterStatus is the answer of GET /v1/jupyter.
type JupyterStatus struct {
	// Enabled: this agent was asked to run Jupyter and found a program.
	Enabled bool `json:"enabled"`
	// Reason says why Jupyter does not run, when it does not.
	Reason  string `json:"reason,omitempty"`
	Program string `json:"program,omitempty"`
	BaseURL string `json:"base_url,omitempty"`
	// Ready: Jupyter answers now.
	Ready bool `json:"ready"`
	// From Jupyter's /api/status while it is ready.
	LastActivity time.Time `json:"last_activity,omitzero"`
	Kernels      int       `json:"kernels"`
	Connections  int       `json:"connections"`
	// The agent's own activity: when it started, how many fits, applies
	// and summaries run now and when the last one ended (or started).
	AgentStarted time.Time `json:"agent_started"`
	JobsRunning  int64     `json:"jobs_running"`
	LastJob      time.Time `json:"last_job,omitzero"`
}

// jobActivity counts the agent's running jobs and remembers the last one.
type jobActivity struct {
	running atomic.Int64
	last    atomic.Int64 // unix nanoseconds; 0: none yet
}

// tracked wraps a job's handler (fit, apply, summary) so that the agent's
// activity counts it.
func (a *Agent) tracked(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		a.jobs.running.Add(1)
		a.jobs.last.Store(time.Now().UnixNano())
		defer func() {
			a.jobs.last.Store(time.Now().UnixNano())
			a.jobs.running.Add(-1)
		}()
		h(w, r)
	}
}

// jupyterKind tells the two command lines apart.
type jupyterKind int

const (
	kindNotebook jupyterKind = iota // the classic Notebook (notebook 6: NotebookApp)
	kindServer                      // jupyter_server based (JupyterLab, Notebook 7: ServerApp)
)

// jupyterServer runs and proxies one Jupyter server.
type jupyterServer struct {
	log     *slog.Logger
	program string
	kind    jupyterKind
	baseURL string
	nbDir   string
	dir     string // the state directory: socket, config, runtime files
	sock    string // the socket's path as the agent dials it
	dirFile *os.File
	proxy   *httputil.ReverseProxy
	client  *http.Client

	mu    sync.Mutex
	token string // of the running Jupyter; "" while none answers
	ready bool

	cancel context.CancelFunc
	done   chan struct{}
}

// findJupyter resolves the program to run: name when given (a path or a
// name on PATH), else jupyter-lab, else jupyter-notebook.
func findJupyter(name string) (string, jupyterKind, error) {
	cands := []string{"jupyter-lab", "jupyter-notebook"}
	if name != "" {
		cands = []string{name}
	}
	for _, c := range cands {
		p, err := exec.LookPath(c)
		if err != nil {
			continue
		}
		kind := kindNotebook
		if strings.Contains(filepath.Base(p), "lab") || strings.Contains(filepath.Base(p), "server") {
			kind = kindServer
		}
		return p, kind, nil
	}
	if name != "" {
		return "", 0, fmt.Errorf("the Jupyter program %q is not installed in this container", name)
	}
	return "", 0, errors.New("no Jupyter is installed in this container (neither jupyter-lab nor jupyter-notebook is on PATH; on Debian: apt-get install jupyter-notebook python3-ipykernel)")
}

// validBaseURL accepts /jupyter/OWNER/NAME/-like paths: absolute, ending
// in '/', without empty, '.' or '..' segments or characters that need
// escaping.
func validBaseURL(s string) error {
	if !strings.HasPrefix(s, "/") || !strings.HasSuffix(s, "/") || len(s) < 3 {
		return errdefs.Invalidf("jupyter base URL %q must start and end with '/'", s)
	}
	for _, seg := range strings.Split(strings.Trim(s, "/"), "/") {
		if seg == "" || seg == "." || seg == ".." {
			return errdefs.Invalidf("jupyter base URL %q has an empty, '.' or '..' segment", s)
		}
		for _, c := range seg {
			if !(c == '_' || c == '-' || c == '.' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
				return errdefs.Invalidf("jupyter base URL %q: use letters, digits, '_', '-' and '.' in its segments", s)
			}
		}
	}
	return nil
}

// startJupyter starts the Jupyter server of a (the agent's root and
// settings) and keeps it running until stop; it returns nil, with the
// reason logged, when there is nothing to run.
func (a *Agent) startJupyter(ctx context.Context) (*jupyterServer, string) {
	if a.cfg.JupyterBaseURL == "" {
		return nil, "this container is not a development container: it runs no Jupyter server"
	}
	if err := validBaseURL(a.cfg.JupyterBaseURL); err != nil {
		a.log.Warn("Jupyter is not started", "err", err)
		return nil, err.Error()
	}
	prog, kind, err := findJupyter(a.cfg.Jupyter)
	if err != nil {
		a.log.Info("Jupyter is not started", "reason", err.Error())
		return nil, err.Error()
	}
	dir := filepath.Join(a.root, stateDir, "jupyter")
	if err := os.MkdirAll(filepath.Join(dir, "runtime"), 0o700); err != nil {
		a.log.Warn("Jupyter is not started", "err", err)
		return nil, err.Error()
	}
	_ = os.Chmod(dir, 0o700)
	j := &jupyterServer{log: a.log.With("jupyter", prog), program: prog, kind: kind, baseURL: a.cfg.JupyterBaseURL,
		nbDir: a.nbDir, dir: dir, done: make(chan struct{})}
	j.sock = filepath.Join(dir, "jupyter.sock")
	if len(j.sock) > 100 {
		// A socket address holds at most 108 bytes: dial it through a
		// descriptor of its directory instead.
		f, err := os.Open(dir)
		if err != nil {
			a.log.Warn("Jupyter is not started", "err", err)
			return nil, err.Error()
		}
		j.dirFile = f
		j.sock = fmt.Sprintf("/proc/self/fd/%d/jupyter.sock", f.Fd())
	}
	tr := &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", j.sock)
		},
		MaxIdleConns: 16, IdleConnTimeout: 90 * time.Second, ResponseHeaderTimeout: 5 * time.Minute,
	}
	j.client = &http.Client{Transport: tr, Timeout: 10 * time.Second}
	j.proxy = &httputil.ReverseProxy{
		Transport: tr,
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.Out.URL.Scheme, pr.Out.URL.Host, pr.Out.Host = "http", "localhost", "localhost"
			pr.Out.URL.Path, pr.Out.URL.RawPath = pr.In.URL.Path, pr.In.URL.RawPath
			// Jupyter sees its own token only: not the agent's token, not
			// a cookie, not the browser's origin (the server checked it).
			for _, h := range []string{"Authorization", "Cookie", "Origin", "Referer"} {
				pr.Out.Header.Del(h)
			}
			pr.Out.Header.Set("Authorization", "token "+j.currentToken())
		},
		ModifyResponse: func(resp *http.Response) error {
			// Jupyter's login cookie would authenticate to Jupyter
			// without its token: it stays here.
			resp.Header.Del("Set-Cookie")
			return nil
		},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			writeError(w, errdefs.Unavailablef("the container's Jupyter server did not answer (%v); it is started again if it stopped: try again shortly", err))
		},
		ErrorLog: slog.NewLogLogger(a.log.Handler(), slog.LevelDebug),
	}
	rctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	j.cancel = cancel
	go j.supervise(rctx)
	return j, ""
}

// currentToken is the running Jupyter's token ("" when none runs).
func (j *jupyterServer) currentToken() string {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.token
}

func (j *jupyterServer) isReady() bool {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.ready
}

// close stops Jupyter (and its kernels) and waits for it.
func (j *jupyterServer) close() {
	j.cancel()
	<-j.done
	if j.dirFile != nil {
		j.dirFile.Close()
	}
}

// supervise runs Jupyter until ctx ends, starting it again after it exits.
func (j *jupyterServer) supervise(ctx context.Context) {
	defer close(j.done)
	backoff := time.Second
	for {
		started := time.Now()
		err := j.runOnce(ctx)
		if ctx.Err() != nil {
			return
		}
		if time.Since(started) > time.Minute {
			backoff = time.Second
		}
		j.log.Warn("the Jupyter server exited; starting it again", "err", err, "in", backoff)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 30*time.Second)
	}
}

// args are Jupyter's arguments for the config file cfgFile.
func (j *jupyterServer) args(cfgFile string) []string {
	app := "NotebookApp"
	dirFlag := "--notebook-dir=" + j.nbDir
	if j.kind == kindServer {
		app = "ServerApp"
		dirFlag = "--ServerApp.root_dir=" + j.nbDir
	}
	return []string{"--no-browser", "--allow-root", "--config=" + cfgFile,
		"--" + app + ".sock=jupyter.sock", "--" + app + ".sock_mode=0600",
		"--" + app + ".base_url=" + j.baseURL, dirFlag}
}

// runOnce starts Jupyter with a fresh token, marks it ready once it
// answers, and returns when it exits (or after stopping it at ctx's end).
func (j *jupyterServer) runOnce(ctx context.Context) error {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return err
	}
	token := hex.EncodeToString(b[:])
	app := "NotebookApp"
	if j.kind == kindServer {
		app = "ServerApp"
	}
	// The token goes in a 0600 file that is deleted once Jupyter has read
	// it: not on a command line, not in the environment kernels inherit.
	cfgFile := filepath.Join(j.dir, "config.json")
	cfg, _ := json.Marshal(map[string]any{app: map[string]any{"token": token, "open_browser": false}})
	if err := os.WriteFile(cfgFile, cfg, 0o600); err != nil {
		return fmt.Errorf("writing Jupyter's configuration: %w", err)
	}
	defer os.Remove(cfgFile)
	_ = os.Remove(filepath.Join(j.dir, "jupyter.sock"))
	cmd := exec.Command(j.program, j.args(cfgFile)...)
	cmd.Dir = j.dir
	cmd.Env = append(os.Environ(), "JUPYTER_RUNTIME_DIR="+filepath.Join(j.dir, "runtime"))
	cmd.SysProcAttr = jupyterSysProcAttr()
	logw := &logWriter{log: j.log}
	cmd.Stdout, cmd.Stderr = logw, logw
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting %s: %w", j.program, err)
	}
	j.log.Info("Jupyter server started", "pid", cmd.Process.Pid, "base_url", j.baseURL, "notebooks", j.nbDir)
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	j.mu.Lock()
	j.token = token
	j.mu.Unlock()
	defer func() {
		j.mu.Lock()
		j.token, j.ready = "", false
		j.mu.Unlock()
	}()
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for !j.isReady() {
		select {
		case err := <-exited:
			return fmt.Errorf("%s exited before it answered: %v", j.program, err)
		case <-ctx.Done():
			return j.stop(cmd, exited)
		case <-tick.C:
			if _, err := j.status(ctx); err == nil {
				j.mu.Lock()
				j.ready = true
				j.mu.Unlock()
				os.Remove(cfgFile)
				j.log.Info("Jupyter server answers", "base_url", j.baseURL)
			}
		}
	}
	select {
	case err := <-exited:
		return err
	case <-ctx.Done():
		return j.stop(cmd, exited)
	}
}

// stop asks Jupyter's process group to end (SIGTERM: Jupyter shuts its
// kernels down) and kills it after 5 s.
func (j *jupyterServer) stop(cmd *exec.Cmd, exited chan error) error {
	signalJupyter(cmd, false)
	select {
	case <-exited:
	case <-time.After(5 * time.Second):
		signalJupyter(cmd, true)
		<-exited
	}
	return nil
}

// jupyterAPIStatus is Jupyter's GET api/status.
type jupyterAPIStatus struct {
	Connections  int       `json:"connections"`
	Kernels      int       `json:"kernels"`
	LastActivity time.Time `json:"last_activity"`
	Started      time.Time `json:"started"`
}

// status asks Jupyter's api/status (which does not count as activity).
func (j *jupyterServer) status(ctx context.Context) (jupyterAPIStatus, error) {
	tok := j.currentToken()
	if tok == "" {
		return jupyterAPIStatus{}, errors.New("not running")
	}
	req, err := http.NewRequestWithContext(ctx, "GET", "http://localhost"+j.baseURL+"api/status?no_track_activity=1", nil)
	if err != nil {
		return jupyterAPIStatus{}, err
	}
	req.Header.Set("Authorization", "token "+tok)
	resp, err := j.client.Do(req)
	if err != nil {
		return jupyterAPIStatus{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return jupyterAPIStatus{}, fmt.Errorf("api/status answered %s", resp.Status)
	}
	var st jupyterAPIStatus
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		return jupyterAPIStatus{}, fmt.Errorf("api/status: %w", err)
	}
	return st, nil
}

// handleJupyter proxies a request under the base URL to Jupyter.
func (a *Agent) handleJupyter(w http.ResponseWriter, r *http.Request) {
	j := a.jupyter
	if j == nil {
		writeError(w, errdefs.NotFound(a.jupyterWhy))
		return
	}
	if !strings.HasPrefix(r.URL.Path, j.baseURL) && r.URL.Path+"/" != j.baseURL {
		writeError(w, errdefs.NotFoundf("this container's Jupyter is served under %s, not %s", j.baseURL, r.URL.Path))
		return
	}
	if !j.isReady() {
		writeError(w, errdefs.Unavailable("the container's Jupyter server is starting: try again in a few seconds"))
		return
	}
	j.proxy.ServeHTTP(w, r)
}

// handleJupyterStatus answers GET /v1/jupyter.
func (a *Agent) handleJupyterStatus(w http.ResponseWriter, r *http.Request) {
	st := JupyterStatus{AgentStarted: a.started, JobsRunning: a.jobs.running.Load()}
	if n := a.jobs.last.Load(); n != 0 {
		st.LastJob = time.Unix(0, n).UTC()
	}
	j := a.jupyter
	if j == nil {
		st.Reason = a.jupyterWhy
		writeJSON(w, http.StatusOK, st)
		return
	}
	st.Enabled, st.Program, st.BaseURL = true, j.program, j.baseURL
	if j.isReady() {
		js, err := j.status(r.Context())
		if err != nil {
			st.Reason = "Jupyter did not answer its status: " + err.Error()
		} else {
			st.Ready, st.LastActivity, st.Kernels, st.Connections = true, js.LastActivity, js.Kernels, js.Connections
		}
	} else {
		st.Reason = "Jupyter is starting"
	}
	writeJSON(w, http.StatusOK, st)
}

// logWriter writes a child's output lines to the agent's log.
type logWriter struct {
	log *slog.Logger
	mu  sync.Mutex
	buf []byte
}

func (l *logWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf = append(l.buf, p...)
	for {
		i := strings.IndexByte(string(l.buf), '\n')
		if i < 0 {
			break
		}
		if line := strings.TrimSpace(string(l.buf[:i])); line != "" {
			l.log.Info("jupyter: " + line)
		}
		l.buf = l.buf[i+1:]
	}
	if len(l.buf) > 64<<10 {
		l.log.Info("jupyter: " + string(l.buf))
		l.buf = l.buf[:0]
	}
	return len(p), nil
}
