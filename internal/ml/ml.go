// Package ml runs the model commands of ML-SPL searches: fit (train a
// notebook in a container and register the saved files as a new model
// version with its lineage), apply (load a version's files into a container
// and predict), summary, listmodels and deletemodel. It implements
// search.ML over the model registry (internal/models) and the container
// service (internal/containers).
//
// Rows are streamed to the container's agent as CSV and spooled to a
// temporary file on the way, so that the predictions that come back can be
// merged with the original rows without holding them in memory.
package ml

import (
	"context"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/dockyard/dockyard/internal/access"
	"github.com/dockyard/dockyard/internal/audit"
	"github.com/dockyard/dockyard/internal/containers"
	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/models"
	"github.com/dockyard/dockyard/internal/search"
	"github.com/dockyard/dockyard/internal/spl"
	"github.com/dockyard/dockyard/internal/store"
)

// Options configure a Service.
type Options struct {
	Models     *models.Registry
	Containers *containers.Service
	// Notebooks is the notebook store: fit runs the newest version of a
	// notebook as its caller resolves it, apply and summary the version
	// the model version's lineage records.
	Notebooks Notebooks
	Audit     audit.Recorder
	Log       *slog.Logger
	// TempDir holds the spool files of running fits and applies; "" is
	// the system's temporary directory.
	TempDir string
	// RequestInfo returns the remote address and request id of the search
	// request in ctx, for audit events; nil leaves them empty.
	RequestInfo func(ctx context.Context) (source, requestID string)
	// Now is the clock; nil is time.Now.
	Now func() time.Time
	// ImageDigest returns the digest of a container image on a runtime
	// for the lineage of a version ("" when unknown); nil leaves it empty.
	ImageDigest func(runtime, image string) string
}

// Service implements search.ML.
type Service struct {
	o Options

	mu    sync.Mutex
	locks map[string]*sync.Mutex
}

var _ search.ML = (*Service)(nil)

// New returns the model commands' implementation.
func New(o Options) (*Service, error) {
	if o.Models == nil || o.Containers == nil {
		return nil, errdefs.Invalid("ml: a model registry and a container service are required")
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Service{o: o, locks: map[string]*sync.Mutex{}}, nil
}

// maxLogMessages caps the notebook output lines a fit or apply turns into
// search messages; the rest is in the container's logs.
const maxLogMessages = 20

func caller(ctx context.Context) (*access.Principal, error) {
	p := access.FromContext(ctx)
	if p == nil || p.User == "" {
		return nil, errdefs.Unauthenticated("no caller identity: sign in and try again")
	}
	return p, nil
}

// toRef converts the search's model reference to the registry's.
func toRef(m spl.ModelRef) (models.Ref, error) {
	return models.ParseRef(m.String())
}

// lock serialises the jobs that read or write one container's model
// directory (a fit's save, the restore of a version's files before an
// apply) and returns its unlock.
func (s *Service) lock(h *containers.Handle) func() {
	key := h.Name + "\x00" + h.Record.Scope
	s.mu.Lock()
	m, ok := s.locks[key]
	if !ok {
		m = &sync.Mutex{}
		s.locks[key] = m
	}
	s.mu.Unlock()
	m.Lock()
	return m.Unlock
}

// containerName is how lineage and messages name a handle's container:
// shared containers by name, development containers as OWNER/__dev__.
func containerName(h *containers.Handle) string {
	if h.Record.Scope != "" {
		return h.Record.Scope + "/" + h.Name
	}
	return h.Name
}

// container picks the container a model command runs in, as docs/fit.md
// says: the one named by container=, else the model's own running
// container, else the caller's development container, which is started on
// demand when start is true. With start false and no running container it
// returns nil and no error.
func (s *Service) container(ctx context.Context, p *access.Principal, named string, ref models.Ref, start bool) (*containers.Handle, error) {
	if named != "" {
		return s.o.Containers.Ensure(ctx, p, named, containers.EnsureOptions{})
	}
	if name, ok := s.modelContainer(ctx, p, ref); ok {
		h, err := s.o.Containers.Ensure(ctx, p, name, containers.EnsureOptions{})
		if err == nil {
			return h, nil
		}
		s.o.Log.Warn("the model's own container is not usable; using the development container", "model", ref.Base(), "container", name, "err", err)
	}
	if !start {
		c, err := s.o.Containers.Get(ctx, p, containers.DevName)
		if err != nil || c.Status != containers.StatusRunning {
			return nil, nil
		}
	}
	return s.o.Containers.Ensure(ctx, p, containers.DevName, containers.EnsureOptions{})
}

// modelContainer finds a running container whose record names the model
// ref, among those the caller may run code in: their own or one shared
// with one of their roles (never another user's development container).
func (s *Service) modelContainer(ctx context.Context, p *access.Principal, ref models.Ref) (string, bool) {
	list, err := s.o.Containers.ListFor(ctx, p)
	if err != nil {
		s.o.Log.Warn("listing containers", "err", err)
		return "", false
	}
	best, found := "", false
	for _, c := range list {
		if c.Status != containers.StatusRunning || c.Model == "" || (c.Scope != "" && c.Scope != p.User) {
			continue
		}
		if c.Owner != p.User && !slices.ContainsFunc(c.Roles, p.HasRole) {
			continue // an administrator's choice of container is explicit (container=)
		}
		mr, err := models.ParseRef(c.Model)
		if err != nil || mr.Name != ref.Name {
			continue
		}
		name := recordName(c)
		if mr.AppShared == ref.AppShared {
			return name, true
		}
		if !found {
			best, found = name, true
		}
	}
	return best, found
}

func recordName(c store.Container) string {
	if c.Scope != "" {
		return containers.DevName
	}
	return c.Name
}

// notebookError is the error of a notebook that failed: its message is the
// notebook's traceback.
func notebookError(op, algo, container, msg string) error {
	msg = strings.TrimSpace(msg)
	if msg == "" {
		msg = "no message"
	}
	return errdefs.Invalidf("%s: notebook %s failed in container %s:\n%s", op, algo, container, msg)
}
