// Package containers manages the containers fits and applies run in: their
// records (desired state, owner, image, runtime, endpoint, model), starting
// and stopping them through a runtime.Runtime with the capabilities the seed
// system defines (list_mltk_container, control_mltk_container,
// configure_mltk_container, and use_gpu for GPUs, within the owner's GPU
// quota: see gpu.go), externally run container
// endpoints, the reconcile pass that adopts a server's containers after a
// restart (quarantining orphans, marking vanished ones lost), and Ensure,
// which hands the search layer a running container's agent.
//
// Every start, stop, removal, registration, adoption, quarantine and loss
// is an audit event naming who did it.
package containers

import (
	"context"
	"crypto/tls"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dockyard/dockyard/internal/access"
	"github.com/dockyard/dockyard/internal/audit"
	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/notebooks"
	"github.com/dockyard/dockyard/internal/runtime"
	"github.com/dockyard/dockyard/internal/secrets"
	"github.com/dockyard/dockyard/internal/store"
)

// DevName is the name of each user's development container, which a fit
// without container= starts on demand. Its record is scoped by its owner.
const DevName = "__dev__"

// Runtime names besides those of the runtime backends.
const (
	RuntimeExternal = "external"
)

// Desired states and observed statuses.
const (
	DesiredRunning = "running"
	DesiredStopped = "stopped"

	StatusCreated    = "created"
	StatusRunning    = "running"
	StatusStopped    = "stopped"
	StatusExited     = "exited"
	StatusLost       = "lost"
	StatusFailed     = "failed"
	StatusRegistered = "registered"
)

// Options configure a Service.
type Options struct {
	Store Store
	// Runtimes are the backends by name ("process", "docker").
	Runtimes map[string]runtime.Runtime
	// DefaultRuntime and DefaultImage are used when a start names none.
	DefaultRuntime string
	DefaultImage   string
	// PinImage resolves the image a start names (an entry of the image
	// catalogue) to the runtime it runs on and the reference of its pinned
	// content, which is what the runtime is given. nil runs the name as
	// given, on the requested or default runtime.
	PinImage func(ctx context.Context, name string) (PinnedImage, error)
	// ServerID labels every container this server creates.
	ServerID string
	// AgentTLS verifies the agents of runtime-managed containers (it trusts
	// the server CA) and, in its Certificates, carries the server's client
	// certificate, which agents started with --client-ca require (mutual
	// TLS); agents that ask for none ignore it. Handles of runtime-managed
	// containers use it; external containers keep their own CA and present
	// no client certificate.
	AgentTLS *tls.Config
	// Secrets seals the tokens of external containers; nil refuses
	// registration.
	Secrets   *secrets.Box
	Notebooks *notebooks.Service
	Audit     audit.Recorder
	Log       *slog.Logger
	// StopGrace is how long a stopping container gets before it is killed.
	StopGrace time.Duration
	// Python, when set, is passed to process-runtime agents as --python.
	Python string

	// AgentEnv, when set, returns environment for each agent being
	// started: the trace exporter's settings (agent.TraceEnv), read at
	// every start so that containers started later follow a change. The
	// values may be secrets: they reach only runtimes that implement
	// EnvStarter, and are never stored in records, logged or audited.
	AgentEnv func(ctx context.Context) (map[string]string, error)
	// HECTokens gives each container started from now on a HEC token
	// restricted to the indexes its owner may search (never _internal),
	// passed to its agent and notebooks as DOCKYARD_HEC_URL,
	// DOCKYARD_HEC_TOKEN, DOCKYARD_HEC_INDEX and DOCKYARD_HEC_CA_FILE; the
	// token is replaced at each start and deleted when the container
	// stops or is removed. It needs HEC, HECURL and Principals.
	HECTokens bool
	// HEC creates and deletes the containers' HEC tokens.
	HEC HECIssuer
	// HECURL is the server's collector URL (https://HOST:PORT/services/collector).
	HECURL string
	// HECCAFile is the PEM file of the CA that verifies HECURL, when it is
	// not a public one.
	HECCAFile string
	// Principals finds a container owner's indexes.
	Principals Principals
	// Roles checks the roles a container is shared with (Share); nil
	// accepts any name.
	Roles RoleChecker

	// Certs holds the operator certificate pairs a start or an image
	// entry may name (containers.certs_dir); nil refuses them.
	Certs CertSource
	// CertHosts are the addresses the server dials agents at, by
	// runtime, which an operator certificate must cover; a runtime not
	// listed takes none (its agents' addresses are not known beforehand).
	CertHosts map[string][]string
	// GPUQuotas caps the GPUs each owner's containers hold, checked in the
	// transaction that records a start (see claim); nil: no quota beyond
	// use_gpu.
	GPUQuotas GPUQuotas
	// GPUDevices lists, by runtime, the GPU devices a runtime's host has
	// (containers.gpu.docker_devices): each start with GPUs there is
	// given devices no other container holds, chosen in the transaction
	// of its claim, and a start is refused when too few are free. A
	// runtime not listed picks GPUs itself (by count).
	GPUDevices map[string][]string
	// Jupyter: whether development containers run a Jupyter server, and
	// which program (see jupyter.go).
	Jupyter JupyterOptions
}

// PinnedImage is what a catalogue entry runs: its runtime, the reference
// that names exactly its pinned content, and that content's digest.
type PinnedImage struct {
	Name    string
	Runtime string
	Ref     string
	Digest  string
	GPU     bool
	Policy  string // the image policy's decision
	// Pull makes the content present on the runtime's host; nil when
	// there is nothing to pull. Called once the start is authorised.
	Pull func(ctx context.Context) error
	// Cert is the operator certificate pair the entry's agents serve
	// ("" for one the server CA issues).
	Cert string
}

// Container is a container's record as the service's callers see it: the
// store's record (an alias), named here so that the API needs no import of
// the store.
type Container = store.Container

// Service manages containers.
type Service struct {
	o   Options
	now func() time.Time

	mu        sync.Mutex
	locks     map[string]*sync.Mutex
	hecTokens atomic.Bool

	quarantined      map[string]quarantinedContainer // orphans by runtime and id
	finalSync        FinalSync
	finalSyncTimeout time.Duration
	uses             useTracker // when each container was last used through the server (cull.go)
}

// New returns a container service.
func New(o Options) (*Service, error) {
	if o.Store == nil {
		return nil, errdefs.Invalid("containers: a store is required")
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Runtimes == nil {
		o.Runtimes = map[string]runtime.Runtime{}
	}
	s := &Service{o: o, now: func() time.Time { return time.Now().UTC() }, locks: map[string]*sync.Mutex{}}
	s.hecTokens.Store(o.HECTokens)
	return s, nil
}

// lock serialises changes to one container record and returns its unlock.
func (s *Service) lock(name, scope string) func() {
	key := name + "\x00" + scope
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

// scope returns the record key a name means to p: DevName is p's own
// development container; "USER/__dev__" is USER's; other names are shared.
func scope(p *access.Principal, name string) (string, string, error) {
	if owner, rest, ok := strings.Cut(name, "/"); ok {
		if rest != DevName || owner == "" {
			return "", "", errdefs.Invalidf("container name %q: only USER/%s addresses another user's container", name, DevName)
		}
		return DevName, owner, nil
	}
	if name == "" || name == DevName {
		return DevName, p.User, nil
	}
	if err := runtime.ValidateName(name); err != nil {
		return "", "", err
	}
	if strings.HasPrefix(name, "dev-") {
		return "", "", errdefs.Invalidf("container name %q: names starting with dev- are kept for development containers; choose another", name)
	}
	return name, "", nil
}

// runtimeName is the name a record's container has in its runtime.
func runtimeName(name, scope string) string {
	if scope == "" {
		return name
	}
	var b strings.Builder
	for _, r := range scope {
		if r == '_' || r == '-' || r == '.' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	return "dev-" + b.String()
}

// DisplayName is how listings show a record: shared containers by name,
// development containers as __dev__ (with their owner beside).
func DisplayName(c store.Container) string { return c.Name }

func needCap(p *access.Principal, c access.Capability, what string) error {
	if p.Can(c) {
		return nil
	}
	return errdefs.PermissionDeniedf("permission denied: %s needs the capability %q, which your roles (%s) do not grant; ask an administrator for a role that has it",
		what, c, strings.Join(p.Roles, ", "))
}

// AuditInfo is what the API knows about a request that audit events
// carry.
type AuditInfo struct {
	Source    string
	RequestID string
}

type auditInfoKey struct{}

// WithAuditInfo returns ctx carrying the request's source and id for the
// audit events the service records.
func WithAuditInfo(ctx context.Context, ai AuditInfo) context.Context {
	return context.WithValue(ctx, auditInfoKey{}, ai)
}

// record writes an audit event; a failure is logged loudly.
func (s *Service) record(ctx context.Context, e audit.Event) {
	if e.Result == "" {
		e.Result = audit.ResultSuccess
	}
	if ai, ok := ctx.Value(auditInfoKey{}).(AuditInfo); ok {
		e.Source, e.RequestID = ai.Source, ai.RequestID
	}
	if e.App == "" {
		if p := access.FromContext(ctx); p != nil {
			e.App = p.App
		}
	}
	s.o.Log.Info("container event", "action", e.Action, "object", e.Object, "user", e.User, "result", e.Result, "message", e.Message)
	if s.o.Audit == nil {
		return
	}
	if err := s.o.Audit.Record(context.WithoutCancel(ctx), e); err != nil {
		s.o.Log.Error("audit event not recorded", "action", e.Action, "err", err)
	}
}

func object(c store.Container) string {
	if c.Scope != "" {
		return "container:" + c.Scope + "/" + c.Name
	}
	return "container:" + c.Name
}

// List returns every container record with its status refreshed from its
// runtime, whoever owns it (for the server's own use; callers get ListFor).
func (s *Service) List(ctx context.Context) ([]store.Container, error) {
	cs, err := s.o.Store.ListContainers(ctx)
	if err != nil {
		return nil, err
	}
	for i, c := range cs {
		cs[i] = s.refresh(ctx, c)
	}
	return cs, nil
}

// Get returns the record name means to p, refreshed: one p may see (see
// owners.go), else "container not found: NAME".
func (s *Service) Get(ctx context.Context, p *access.Principal, name string) (store.Container, error) {
	c, err := s.find(ctx, p, name, verbRun, "container.get", notFound)
	if err != nil {
		return store.Container{}, err
	}
	return s.refresh(ctx, c), nil
}

// refresh updates a runtime-managed record from its runtime's view (best
// effort: an unreachable runtime leaves the record as it is).
func (s *Service) refresh(ctx context.Context, c store.Container) store.Container {
	rt, ok := s.o.Runtimes[c.Runtime]
	if !ok || c.RuntimeID == "" || c.Status == StatusLost {
		return c
	}
	rc, err := rt.Inspect(ctx, c.RuntimeID)
	var status, endpoint, msg string
	switch {
	case errdefs.IsNotFound(err):
		status, msg = StatusLost, "its container vanished from the "+c.Runtime+" runtime"
	case err != nil:
		return c
	case rc.State == runtime.StateRunning:
		status, endpoint = StatusRunning, rc.Endpoint
	case rc.State == runtime.StateCreated:
		status = StatusCreated
	default:
		status = StatusExited
		if c.Desired == DesiredStopped {
			status = StatusStopped
		}
	}
	if status == c.Status && endpoint == c.Endpoint {
		return c
	}
	// Write only the status, and only if the record is still as read: a
	// start may have claimed it since (its GPUs, its desired state), and
	// an older copy written back would undo that claim.
	changed := false
	err = s.o.Store.InTx(ctx, func(ctx context.Context) error {
		cur, err := s.o.Store.GetContainer(ctx, c.Name, c.Scope)
		if err != nil || cur.ID != c.ID || cur.RuntimeID != c.RuntimeID || cur.Status != c.Status || cur.Desired != c.Desired || cur.GPUs != c.GPUs {
			return err
		}
		cur.Status, cur.Endpoint, cur.Message, cur.Updated = status, endpoint, msg, s.now()
		if status == StatusLost {
			cur.RuntimeID = ""
		}
		c, changed = cur, true
		return s.o.Store.UpdateContainer(ctx, cur)
	})
	if err != nil {
		s.o.Log.Warn("updating container status", "container", c.Name, "err", err)
	}
	if !changed {
		return c
	}
	if status == StatusLost {
		s.revokeHEC(ctx, c)
		s.record(ctx, audit.Event{User: access.SystemUser, Action: "container.lost", Object: object(c), Result: audit.ResultFailure, Message: msg})
	}
	return c
}
