// Package audit records every state change and every refused request as an
// event for index=_internal, chains each event to the hash of the one
// before, signs checkpoints and verifies the chain.
package audit

import (
	"context"
	"sync"
	"time"
)

// Results of an audited action.
const (
	ResultSuccess = "success"
	ResultFailure = "failure"
	ResultDenied  = "denied"
)

// Event is one audit record. Details must never hold a secret.
type Event struct {
	Time      time.Time      `json:"time"`
	User      string         `json:"user"`
	Action    string         `json:"action"` // e.g. "login", "model.version.create", "container.start"
	Object    string         `json:"object,omitempty"`
	App       string         `json:"app,omitempty"`
	Result    string         `json:"result"`
	Source    string         `json:"src,omitempty"` // remote address
	RequestID string         `json:"request_id,omitempty"`
	Message   string         `json:"message,omitempty"`
	Details   map[string]any `json:"details,omitempty"`
}

// Recorder takes audit events. Record returns once the event is durable.
type Recorder interface {
	Record(ctx context.Context, e Event) error
}

// Memory is an in-memory Recorder for tests.
type Memory struct {
	mu     sync.Mutex
	events []Event
}

// Record appends e.
func (m *Memory) Record(_ context.Context, e Event) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if e.Time.IsZero() {
		e.Time = time.Now().UTC()
	}
	m.events = append(m.events, e)
	return nil
}

// Events returns a copy of what was recorded.
func (m *Memory) Events() []Event {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]Event(nil), m.events...)
}
