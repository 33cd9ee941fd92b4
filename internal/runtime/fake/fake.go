// Package fake is an in-memory runtime.Runtime for tests of packages that
// manage containers. It runs nothing; it passes runtimetest.
package fake

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/runtime"
)

type entry struct {
	c    runtime.Container
	spec runtime.Spec
	logs []logLine
}

type logLine struct {
	at   time.Time
	text string
}

// Runtime is the in-memory fake. The zero value is not usable; call New.
type Runtime struct {
	mu    sync.Mutex
	items map[string]*entry
	now   func() time.Time
	seq   int
	// FailStart, when set, makes Start of that container name fail.
	FailStart map[string]error
	// notIsolated, when set, is the reason the fake reports that its
	// containers are not a security boundary (SetIsolated).
	notIsolated string
}

var _ runtime.Isolator = (*Runtime)(nil)

// SetIsolated makes the fake report its containers as isolated (ok) or,
// with the given reason, not (as the process runtime without its
// sandbox does).
func (r *Runtime) SetIsolated(ok bool, reason string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.notIsolated = ""
	if !ok {
		r.notIsolated = reason
		if reason == "" {
			r.notIsolated = "the fake runtime was told not to isolate"
		}
	}
}

// Isolated implements runtime.Isolator: true unless SetIsolated(false, ...).
func (r *Runtime) Isolated() (bool, string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.notIsolated == "", r.notIsolated
}

// New returns an empty fake runtime.
func New() *Runtime {
	return &Runtime{items: map[string]*entry{}, now: time.Now, FailStart: map[string]error{}}
}

var _ runtime.Runtime = (*Runtime)(nil)

func (r *Runtime) get(id string) (*entry, error) {
	e, ok := r.items[id]
	if !ok {
		return nil, errdefs.NotFoundf("container %q not found", id)
	}
	return e, nil
}

func clone(c runtime.Container) runtime.Container {
	c.Labels = runtime.WithManaged(c.Labels)
	return c
}

// Create implements runtime.Runtime.
func (r *Runtime) Create(ctx context.Context, spec runtime.Spec) (runtime.Container, error) {
	if err := runtime.ValidateSpec(spec); err != nil {
		return runtime.Container{}, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, e := range r.items {
		if e.c.Name == spec.Name {
			return runtime.Container{}, errdefs.Conflictf("container name %q is in use: remove it first", spec.Name)
		}
	}
	r.seq++
	tok := make([]byte, 16)
	_, _ = rand.Read(tok)
	c := runtime.Container{
		ID:      fmt.Sprintf("fake-%d", r.seq),
		Name:    spec.Name,
		Image:   spec.Image,
		Labels:  runtime.WithManaged(spec.Labels),
		State:   runtime.StateCreated,
		Created: r.now(),
		Token:   hex.EncodeToString(tok),
	}
	r.items[c.ID] = &entry{c: c, spec: spec}
	return clone(c), nil
}

// Start implements runtime.Runtime.
func (r *Runtime) Start(ctx context.Context, id string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	e, err := r.get(id)
	if err != nil {
		return err
	}
	if err := r.FailStart[e.c.Name]; err != nil {
		return err
	}
	if e.c.State == runtime.StateRunning {
		return nil
	}
	e.c.State = runtime.StateRunning
	e.c.Started = r.now()
	e.c.Endpoint = "https://127.0.0.1:1/" + e.c.ID
	e.logs = append(e.logs, logLine{r.now(), "agent started\n"})
	return nil
}

// Stop implements runtime.Runtime.
func (r *Runtime) Stop(ctx context.Context, id string, grace time.Duration) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	e, err := r.get(id)
	if err != nil {
		return err
	}
	if e.c.State == runtime.StateRunning {
		e.c.State = runtime.StateExited
		e.c.Endpoint = ""
		e.logs = append(e.logs, logLine{r.now(), "agent stopped\n"})
	}
	return nil
}

// Remove implements runtime.Runtime.
func (r *Runtime) Remove(ctx context.Context, id string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, err := r.get(id); err != nil {
		return err
	}
	delete(r.items, id)
	return nil
}

// List implements runtime.Runtime.
func (r *Runtime) List(ctx context.Context, labels map[string]string) ([]runtime.Container, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []runtime.Container
	for _, e := range r.items {
		if runtime.MatchLabels(e.c.Labels, labels) {
			out = append(out, clone(e.c))
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// Inspect implements runtime.Runtime.
func (r *Runtime) Inspect(ctx context.Context, id string) (runtime.Container, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	e, err := r.get(id)
	if err != nil {
		return runtime.Container{}, err
	}
	return clone(e.c), nil
}

// Logs implements runtime.Runtime.
func (r *Runtime) Logs(ctx context.Context, id string, since time.Time) (io.ReadCloser, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	e, err := r.get(id)
	if err != nil {
		return nil, err
	}
	var b strings.Builder
	for _, l := range e.logs {
		if !l.at.Before(since) {
			b.WriteString(l.text)
		}
	}
	return io.NopCloser(strings.NewReader(b.String())), nil
}

// Spec returns the spec a container was created from (for assertions).
func (r *Runtime) Spec(id string) (runtime.Spec, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	e, ok := r.items[id]
	if !ok {
		return runtime.Spec{}, false
	}
	return e.spec, true
}
