package containers

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/dockyard/dockyard/internal/agent"
	"github.com/dockyard/dockyard/internal/errdefs"
)

// TestIdleSince: a development container is idle from the latest of its
// agent's start, its Jupyter's last activity, its last job and the
// server's last use of it, and busy while a kernel, a connection or a job
// is open.
func TestIdleSince(t *testing.T) {
	t0 := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	at := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
	for _, tc := range []struct {
		name      string
		st        agent.JupyterStatus
		serverUse time.Time
		since     time.Time
		busy      bool
	}{
		{"just started", agent.JupyterStatus{AgentStarted: at(0)}, time.Time{}, at(0), false},
		{"Jupyter activity", agent.JupyterStatus{AgentStarted: at(0), LastActivity: at(5), LastJob: at(3)}, at(1), at(5), false},
		{"a fit last", agent.JupyterStatus{AgentStarted: at(0), LastActivity: at(5), LastJob: at(9)}, at(1), at(9), false},
		{"the server handed it out last", agent.JupyterStatus{AgentStarted: at(0), LastActivity: at(5)}, at(12), at(12), false},
		{"an open kernel", agent.JupyterStatus{AgentStarted: at(0), Kernels: 1}, time.Time{}, at(0), true},
		{"an open connection", agent.JupyterStatus{AgentStarted: at(0), Connections: 1}, time.Time{}, at(0), true},
		{"a running fit", agent.JupyterStatus{AgentStarted: at(0), JobsRunning: 1}, time.Time{}, at(0), true},
	} {
		since, busy := idleSince(tc.st, tc.serverUse)
		if !since.Equal(tc.since) || busy != tc.busy {
			t.Errorf("%s: idleSince = %v, %v; want %v, %v", tc.name, since, busy, tc.since, tc.busy)
		}
	}
}

// TestOnlyInvalid: a final sync that failed only on notebooks no sync can
// store does not keep an idle container running; any other failure does.
func TestOnlyInvalid(t *testing.T) {
	inv := func(f string) error { return errdefs.Invalid(f + ": not a valid notebook, so it cannot be stored") }
	wrap := func(err error) error {
		return fmt.Errorf("final notebook sync of container %q: %w", "alice/__dev__", err)
	}
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{wrap(errors.Join(inv("Untitled.ipynb"))), true},
		{wrap(errors.Join(inv("a.ipynb"), inv("b.ipynb"))), true},
		{wrap(errors.Join(inv("a.ipynb"), fmt.Errorf("b.ipynb: %w", errdefs.Unavailable("the store failed")))), false},
		{wrap(errdefs.Unavailable("agent unreachable")), false},
		{errors.New("plain"), false},
	} {
		if got := onlyInvalid(tc.err); got != tc.want {
			t.Errorf("onlyInvalid(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}
