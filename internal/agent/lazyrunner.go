package agent

import (
	"context"
	"sync"

	"github.com/dockyard/dockyard/internal/agent/runner"
	"github.com/dockyard/dockyard/internal/errdefs"
)

// lazyRunner starts the notebook runner on first use and retries a start
// that failed (python3 installed later, for example).
type lazyRunner struct {
	opts   runner.Options
	mu     sync.Mutex
	r      *runner.Runner
	closed bool // after close, no runner starts again
}

func (l *lazyRunner) get(ctx context.Context) (*runner.Runner, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.r != nil {
		return l.r, nil
	}
	if l.closed {
		return nil, errdefs.Unavailable("the notebook runner is stopped: the agent is shutting down; retry once the container is running again")
	}
	r, err := runner.Start(ctx, l.opts)
	if err != nil {
		return nil, err
	}
	l.r = r
	return r, nil
}

func (l *lazyRunner) pid() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.r == nil {
		return 0
	}
	return l.r.Pid()
}

func (l *lazyRunner) close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.closed = true
	if l.r == nil {
		return nil
	}
	err := l.r.Close()
	l.r = nil
	return err
}
