// Package runner runs Dockyard notebooks in a warm Python process.
//
// The Python program (runner.py, embedded in the binary) is started once per
// container and kept running. Requests go to it as JSON lines on its fd 3;
// events and answers come back as JSON lines on its fd 4, so the notebook's
// own print() output never corrupts the protocol: the runner forwards every
// line a notebook prints as a "log" event of the call in progress. Bulk data
// never travels through the protocol: the agent writes the input rows to a
// CSV file and passes its path, and the runner writes apply's results to
// another CSV file. If the Python process dies, the next call starts a new
// one.
package runner

import (
	"bufio"
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/dockyard/dockyard/internal/errdefs"
)

//go:embed runner.py
var script []byte

// Script returns the embedded Python runner's source.
func Script() []byte { return bytes.Clone(script) }

// Options configure a Runner.
type Options struct {
	Python       string       // interpreter; "" means "python3"
	NotebooksDir string       // notebooks/ of the container; the runner's working directory
	ModelDir     string       // app/model/data/ of the container; MODEL_DIRECTORY
	ScriptDir    string       // where runner.py is written; "" means a new temporary directory
	Pandas       string       // "auto" (default), "require" or "never"
	Env          []string     // extra environment for the interpreter
	Logger       *slog.Logger // receives output that is not part of a call
}

// Request is one call to the runner.
type Request struct {
	Op       string `json:"op"`                 // fit, apply, summary, ping
	Notebook string `json:"notebook,omitempty"` // notebook name without extension
	// NotebookFile, when set, is the file to run as the notebook (a pinned
	// version); the runner refuses it unless its SHA-256 is NotebookSHA256.
	NotebookFile   string          `json:"notebook_file,omitempty"`
	NotebookSHA256 string          `json:"notebook_sha256,omitempty"`
	SaveName       string          `json:"save_name,omitempty"` // name passed to save/load: <algo>_<model_name>
	Data           string          `json:"data,omitempty"`      // path of the input CSV
	Results        string          `json:"results,omitempty"`   // path apply's results are written to ("" on fit: no apply)
	Meta           json.RawMessage `json:"meta,omitempty"`      // the seed's param
	Rows           int64           `json:"rows,omitempty"`      // about how many rows Data holds (a capacity hint)
}

// Event is a progress event of a call in flight.
type Event struct {
	Type   string `json:"type"`             // "log" or "progress"
	Stream string `json:"stream,omitempty"` // log: stdout or stderr
	Line   string `json:"line,omitempty"`   // log: one line the notebook printed
	Step   string `json:"step,omitempty"`   // progress: init, fit, save, load, apply
}

// Result is the answer to a call.
type Result struct {
	Status     string             `json:"status"` // success or error
	Message    string             `json:"message,omitempty"`
	Messages   []string           `json:"messages,omitempty"`
	Rows       int                `json:"rows"`
	ResultRows int                `json:"result_rows"`
	FitInfo    json.RawMessage    `json:"fit_info,omitempty"`
	Summary    json.RawMessage    `json:"summary,omitempty"`
	Timings    map[string]float64 `json:"timings,omitempty"` // seconds spent reading the rows and writing the results
	Python     string             `json:"python,omitempty"`
	Version    string             `json:"version,omitempty"`
	Pandas     bool               `json:"pandas,omitempty"`
}

type wireMsg struct {
	ID   *int64 `json:"id"`
	Type string `json:"type"`
	Event
	Result
}

// Runner is a warm Python process. Calls are serialised.
type Runner struct {
	opts   Options
	log    *slog.Logger
	script string

	mu   sync.Mutex // one call at a time
	proc *proc
	seq  int64

	// curMu guards cur (the process, as proc, but readable while a call
	// runs) and closed; it is never held while waiting, so that Close,
	// Pid and Info do not wait for a notebook to finish.
	curMu  sync.Mutex
	cur    *proc
	closed bool
}

type proc struct {
	cmd    *exec.Cmd
	in     *os.File // our end of fd 3
	out    *os.File // our end of fd 4
	msgs   chan wireMsg
	done   chan struct{} // closed when the process has exited
	err    error         // exit error, valid after done
	stderr *tailBuffer
	ready  wireMsg

	abandonOnce sync.Once
	abandoned   chan struct{} // closed when the Runner stops reading msgs
}

// Start writes the runner script and starts the interpreter, waiting until
// it reports ready.
func Start(ctx context.Context, opts Options) (*Runner, error) {
	if opts.Python == "" {
		opts.Python = "python3"
	}
	if opts.Pandas == "" {
		opts.Pandas = "auto"
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	dir := opts.ScriptDir
	if dir == "" {
		d, err := os.MkdirTemp("", "dockyard-runner-")
		if err != nil {
			return nil, fmt.Errorf("runner: temporary directory: %w", err)
		}
		dir = d
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("runner: %w", err)
	}
	path := filepath.Join(dir, "runner.py")
	if err := os.WriteFile(path, script, 0o600); err != nil {
		return nil, fmt.Errorf("runner: writing %s: %w", path, err)
	}
	r := &Runner{opts: opts, log: log, script: path}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, err := r.ensure(ctx); err != nil {
		return nil, err
	}
	return r, nil
}

// setProc records the current process (nil: none).
func (r *Runner) setProc(p *proc) {
	r.proc = p
	r.curMu.Lock()
	r.cur = p
	r.curMu.Unlock()
}

// Pid returns the interpreter's process id, or 0 when none runs.
func (r *Runner) Pid() int {
	r.curMu.Lock()
	defer r.curMu.Unlock()
	if r.cur == nil {
		return 0
	}
	return r.cur.cmd.Process.Pid
}

// Info returns what the interpreter reported when it started: its path,
// version and whether pandas is importable.
func (r *Runner) Info() Result {
	r.curMu.Lock()
	defer r.curMu.Unlock()
	if r.cur == nil {
		return Result{}
	}
	return r.cur.ready.Result
}

// Close stops the interpreter at once, ending a call in progress (which
// returns an error), and refuses later calls.
func (r *Runner) Close() error {
	r.curMu.Lock()
	r.closed = true
	p := r.cur
	r.curMu.Unlock()
	if p != nil {
		p.kill() // a call in progress sees the process end and returns
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.proc != nil {
		r.proc.kill()
		r.setProc(nil)
	}
	return nil
}

func (r *Runner) isClosed() bool {
	r.curMu.Lock()
	defer r.curMu.Unlock()
	return r.closed
}

var errClosed = errdefs.Unavailable("the notebook runner is stopped: the agent is shutting down; retry once the container is running again")

func (r *Runner) ensure(ctx context.Context) (*proc, error) {
	if r.isClosed() {
		return nil, errClosed
	}
	if r.proc != nil {
		select {
		case <-r.proc.done:
			r.log.Warn("notebook runner exited; starting a new one", "err", r.proc.err, "stderr", r.proc.stderr.String())
			r.proc.kill()
			r.setProc(nil)
		default:
			return r.proc, nil
		}
	}
	p, err := r.spawn(ctx)
	if err != nil {
		return nil, err
	}
	r.setProc(p)
	if r.isClosed() { // Close ran while this process started
		p.kill()
		r.setProc(nil)
		return nil, errClosed
	}
	return p, nil
}

func (r *Runner) spawn(ctx context.Context) (*proc, error) {
	reqR, reqW, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("runner: %w", err)
	}
	respR, respW, err := os.Pipe()
	if err != nil {
		reqR.Close()
		reqW.Close()
		return nil, fmt.Errorf("runner: %w", err)
	}
	cmd := exec.Command(r.opts.Python, "-u", r.script,
		"--notebooks", r.opts.NotebooksDir, "--model", r.opts.ModelDir, "--pandas", r.opts.Pandas)
	cmd.Dir = r.opts.NotebooksDir
	cmd.Env = append(os.Environ(), r.opts.Env...)
	cmd.ExtraFiles = []*os.File{reqR, respW}
	// Its own process group, so that killing it also kills what a notebook
	// started (and whatever a wrapper such as a pyenv shim left between); it
	// dies with the agent.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	// A process the notebook forked holds the output pipes (and fd 4)
	// after the interpreter dies: do not wait for it to close them.
	cmd.WaitDelay = time.Second
	p := &proc{cmd: cmd, in: reqW, out: respR, msgs: make(chan wireMsg, 64), done: make(chan struct{}),
		stderr: &tailBuffer{max: 8192}, abandoned: make(chan struct{})}
	outLog := &lineLogger{log: r.log, tail: p.stderr}
	cmd.Stdout, cmd.Stderr = outLog, outLog
	if err := cmd.Start(); err != nil {
		reqR.Close()
		reqW.Close()
		respR.Close()
		respW.Close()
		return nil, errdefs.Unavailablef("cannot start the notebook runner with interpreter %q: %w; install python3 or set the agent's --python", r.opts.Python, err)
	}
	reqR.Close()
	respW.Close()
	go p.readLoop(respR, r.log)
	go func() {
		p.err = cmd.Wait()
		outLog.flush()
		close(p.done)
	}()
	select {
	case m, ok := <-p.msgs:
		if ok && m.Type == "ready" {
			p.ready = m
			r.log.Info("notebook runner ready", "python", m.Python, "version", m.Version, "pandas", m.Pandas, "pid", cmd.Process.Pid)
			return p, nil
		}
		p.kill()
		<-p.done
		return nil, errdefs.Unavailablef("notebook runner (%s) did not start: %w: %s", r.opts.Python, p.err, p.stderr.String())
	case <-ctx.Done():
		p.kill()
		return nil, fmt.Errorf("starting the notebook runner: %w", ctx.Err())
	}
}

func (p *proc) readLoop(rd io.ReadCloser, log *slog.Logger) {
	defer rd.Close()
	defer close(p.msgs)
	br := bufio.NewReaderSize(rd, 64<<10)
	for {
		line, err := br.ReadBytes('\n')
		if len(bytes.TrimSpace(line)) > 0 {
			var m wireMsg
			if jerr := json.Unmarshal(line, &m); jerr != nil {
				log.Warn("notebook runner sent a bad protocol line", "err", jerr)
			} else {
				select {
				case p.msgs <- m:
				case <-p.abandoned:
					return
				}
			}
		}
		if err != nil {
			return
		}
	}
}

func (p *proc) kill() {
	p.abandonOnce.Do(func() { close(p.abandoned) })
	p.in.Close()
	if p.cmd.Process != nil {
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		_ = p.cmd.Process.Kill()
	}
}

// reap ends what is left of a process whose interpreter has exited: the
// rest of its group, and the protocol pipe that a process outside the
// group may still hold open.
func (p *proc) reap() {
	p.kill()
	p.out.Close() // readLoop's read ends, and msgs is closed
}

// Call sends req and waits for its answer, passing progress events to
// onEvent (which may be nil). A notebook's failure is a Result with status
// "error", not an error; an error means the runner itself failed (it is
// restarted on the next call) or ctx ended (the runner is killed, since a
// notebook cannot be interrupted safely).
func (r *Runner) Call(ctx context.Context, req Request, onEvent func(Event)) (Result, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	// A caller that gave up while waiting for the call before: nothing
	// was sent, so the runner stays (killing it would lose its warm state).
	if err := ctx.Err(); err != nil {
		return Result{}, fmt.Errorf("notebook %s %s not started: %w", req.Notebook, req.Op, err)
	}
	p, err := r.ensure(ctx)
	if err != nil {
		return Result{}, err
	}
	r.seq++
	id := r.seq
	line, err := json.Marshal(struct {
		ID int64 `json:"id"`
		Request
	}{id, req})
	if err != nil {
		return Result{}, fmt.Errorf("runner request: %w", err)
	}
	if _, err := p.in.Write(append(line, '\n')); err != nil {
		p.kill()
		return Result{}, errdefs.Unavailablef("notebook runner is gone (%w): %s", err, p.stderr.String())
	}
	exited := p.done
	var reapAfter <-chan time.Time
	for {
		select {
		case <-exited:
			// The interpreter died during the call (it exits on its own
			// only then). Its last messages are still read; msgs closes
			// when the pipe does, or when reap ends what holds it open.
			exited = nil
			reapAfter = time.After(time.Second)
		case <-reapAfter:
			reapAfter = nil
			p.reap()
		case m, ok := <-p.msgs:
			if !ok {
				<-p.done
				if r.isClosed() {
					return Result{}, fmt.Errorf("notebook %s %s stopped: %w", req.Notebook, req.Op, errClosed)
				}
				return Result{}, errdefs.Unavailable(explainMemory(fmt.Sprintf("notebook runner exited during %s (%v); it restarts on the next call: %s", req.Op, p.err, p.stderr.String())))
			}
			if m.ID == nil || *m.ID != id {
				if m.Type == "log" {
					r.log.Info("notebook output", "stream", m.Stream, "line", m.Line)
				}
				continue
			}
			switch m.Type {
			case "done":
				if m.Result.Status == "error" {
					m.Result.Message = explainMemory(m.Result.Message)
				}
				return m.Result, nil
			case "log", "progress":
				if onEvent != nil {
					m.Event.Type = m.Type
					onEvent(m.Event)
				}
			}
		case <-ctx.Done():
			p.kill()
			select {
			case <-p.done:
			case <-time.After(5 * time.Second):
			}
			r.setProc(nil)
			return Result{}, fmt.Errorf("notebook %s %s stopped: %w", req.Notebook, req.Op, ctx.Err())
		}
	}
}
