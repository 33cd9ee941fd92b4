// Package nbsync keeps the notebooks in running containers and the central
// notebook store in step, pulled by the server (agents need no credentials
// for the server). Watch follows each running container's change feed
// (the agent's GET /v1/changes long poll) and syncs a container as soon as
// its files changed and settled; Flush is the final sync that stop and
// remove wait for; Run is the full pass every sync interval, which also
// catches anything the push path missed:
//
//   - Out of containers: every pass lists each running, runtime-managed
//     container's notebooks (name and SHA-256) and stores every one whose
//     content is in none of the versions of the notebook its owner reads
//     by that name as the next version, on behalf of the owner in the
//     owner's default app (a notebook made only inside the container
//     becomes a new private notebook of the owner). The version's author
//     is the container's owner and its source "container:NAME": it is
//     never recorded as anyone else's work, and it only ever goes into a
//     notebook the owner may write (else into a new private notebook of
//     the owner). Content equal to an
//     older version is a stale copy, not an edit, and is left alone, so a
//     push from the CLI is never reverted; both writers stay in the
//     history and the last writer is newest. A notebook that fails
//     validation (a half-written .ipynb) is skipped with a log line and
//     tried again next pass; nothing of it is stored.
//   - Into containers: the first pass that sees a container running (after
//     each start, and after a server restart) places the newest version of
//     each notebook the owner owns in their default app into it where the
//     container lacks it or holds an older version's content, so a new
//     container has its owner's notebooks within one interval.
//
// Every stored version is an audit event notebook.sync naming the owner
// and the container; every restore is notebook.restore.
//
// Notebook versions the model commands run (pinned by digest, see
// internal/ml) are placed outside the notebooks directory, so the sync
// never sees them: code another user's model brought into a container is
// not stored as the container owner's notebook.
package nbsync

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/dockyard/dockyard/internal/access"
	"github.com/dockyard/dockyard/internal/agent"
	"github.com/dockyard/dockyard/internal/audit"
	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/notebooks"
	"github.com/dockyard/dockyard/internal/store"
)

// Agent is the part of a container's agent API the sync uses
// (agentclient.Client implements it).
type Agent interface {
	ListNotebooks(ctx context.Context) ([]agent.FileInfo, error)
	GetNotebook(ctx context.Context, name string) ([]byte, error)
	PutNotebook(ctx context.Context, name string, content []byte) (agent.FileInfo, error)
}

// Containers lists the container records with their status refreshed
// (containers.Service implements it).
type Containers interface {
	List(ctx context.Context) ([]store.Container, error)
}

// Notebooks is the central notebook store (notebooks.Service implements
// it).
type Notebooks interface {
	Push(ctx context.Context, p *access.Principal, req notebooks.PushRequest) (notebooks.PushResult, error)
	List(ctx context.Context, p *access.Principal) ([]notebooks.Info, error)
	History(ctx context.Context, p *access.Principal, name string) (notebooks.Info, []store.NotebookVersion, error)
	Content(ctx context.Context, p *access.Principal, name string, version int) (notebooks.Info, store.NotebookVersion, []byte, error)
}

// Principals finds a user's principal in an app ("" for the user's
// default app); access.Service implements it.
type Principals interface {
	EffectivePrincipal(ctx context.Context, user, app string) (*access.Principal, error)
}

// Options configure a Syncer. All but Audit and Log are required.
type Options struct {
	Containers Containers
	Notebooks  Notebooks
	Principals Principals
	// Dial returns the agent of a running container, or an error when it
	// does not answer.
	Dial  func(ctx context.Context, c store.Container) (Agent, error)
	Audit audit.Recorder
	Log   *slog.Logger
}

// Syncer runs sync passes; one at a time.
type Syncer struct {
	o Options

	mu       sync.Mutex
	restored map[string]bool // containers (by start) already restored into
	invalid  map[string]bool // container/file/sha already logged as invalid
	failed   map[string]bool // container start/file whose failure is already audited
}

// New returns a Syncer.
func New(o Options) (*Syncer, error) {
	if o.Containers == nil || o.Notebooks == nil || o.Principals == nil || o.Dial == nil {
		return nil, errdefs.Invalid("nbsync: containers, notebooks, principals and a dialer are required")
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	return &Syncer{o: o, restored: map[string]bool{}, invalid: map[string]bool{}, failed: map[string]bool{}}, nil
}

// Report says what one pass did. Entries read "CONTAINER: FILE" (the
// container as USER/__dev__ for development containers).
type Report struct {
	Stored   []string // stored as a new version (or a new notebook)
	Invalid  []string // skipped: failed validation
	Restored []string // placed into a container
	Failed   []string // containers or files that failed otherwise ("CONTAINER: error")
}

// Run runs a pass every interval until ctx ends.
func (s *Syncer) Run(ctx context.Context, interval time.Duration) {
	if interval <= 0 {
		s.o.Log.Info("notebook sync is off (sync interval is not positive)")
		return
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if _, err := s.SyncOnce(ctx); err != nil && ctx.Err() == nil {
				s.o.Log.Warn("notebook sync pass", "err", err)
			}
		}
	}
}

// SyncOnce runs one pass over every running, runtime-managed container.
// It fails only when the containers cannot be listed; a container or
// notebook that fails is logged, reported and tried again next pass.
func (s *Syncer) SyncOnce(ctx context.Context) (Report, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var rep Report
	cs, err := s.o.Containers.List(ctx)
	if err != nil {
		return rep, fmt.Errorf("notebook sync: listing containers: %w", err)
	}
	seen := map[string]bool{}
	for _, c := range cs {
		if c.Status != "running" || c.Runtime == "external" || c.RuntimeID == "" || c.Owner == "" {
			continue
		}
		key := startKey(c)
		seen[key] = true
		if err := s.syncContainer(ctx, c, key, &rep); err != nil {
			rep.Failed = append(rep.Failed, display(c)+": "+err.Error())
			s.o.Log.Warn("notebook sync: container skipped this pass", "container", display(c), "owner", c.Owner, "err", err)
			s.auditFailureOnce(ctx, c, key, "", err)
		}
	}
	for k := range s.restored {
		if !seen[k] {
			delete(s.restored, k)
		}
	}
	for k := range s.failed {
		if !seen[strings.SplitN(k, "\x00", 2)[0]] {
			delete(s.failed, k)
		}
	}
	for k := range s.invalid {
		if !seen[strings.SplitN(k, "\x00", 2)[0]] {
			delete(s.invalid, k)
		}
	}
	return rep, nil
}

// startKey identifies one start of a container.
func startKey(c store.Container) string {
	return fmt.Sprintf("%d/%s/%d", c.ID, c.RuntimeID, c.Started.UnixNano())
}

// display names a container the way users address it.
func display(c store.Container) string {
	if c.Scope != "" {
		return c.Scope + "/" + c.Name
	}
	return c.Name
}

func (s *Syncer) syncContainer(ctx context.Context, c store.Container, key string, rep *Report) error {
	p, err := s.o.Principals.EffectivePrincipal(ctx, c.Owner, "")
	if err != nil {
		return fmt.Errorf("owner %q: %w", c.Owner, err)
	}
	ag, err := s.o.Dial(ctx, c)
	if err != nil {
		return err
	}
	files, err := ag.ListNotebooks(ctx)
	if err != nil {
		return err
	}
	have := map[string]string{}
	for _, f := range files {
		have[f.Path] = f.SHA256
		if err := s.syncOut(ctx, c, key, p, ag, f, rep); err != nil {
			rep.Failed = append(rep.Failed, display(c)+": "+f.Path+": "+err.Error())
			s.o.Log.Warn("notebook sync: not stored this pass", "container", display(c), "file", f.Path, "err", err)
			s.auditFailureOnce(ctx, c, key, f.Path, err)
			continue
		}
		delete(s.failed, key+"\x00"+f.Path)
	}
	if s.restored[key] {
		return nil
	}
	if err := s.restore(ctx, c, p, ag, have, rep); err != nil {
		return err
	}
	s.restored[key] = true
	return nil
}

// auditFailureOnce records a sync failure as an audit event once per
// container start and file (file "" for the whole container) until it
// succeeds again, so a failure retried every pass is not a flood.
func (s *Syncer) auditFailureOnce(ctx context.Context, c store.Container, key, file string, err error) {
	k := key + "\x00" + file
	if s.failed[k] {
		return
	}
	s.failed[k] = true
	what := "sync"
	if file != "" {
		what = "sync of " + file
	}
	s.recordFailure(ctx, c, what, err)
}

// inHistory reports whether sha (hex) is the content of one of vs.
func inHistory(vs []store.NotebookVersion, sha string) bool {
	for _, v := range vs {
		if strings.TrimPrefix(v.Digest, "sha256:") == sha {
			return true
		}
	}
	return false
}
