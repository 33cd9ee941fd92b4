// Package runtime defines the contract every container backend implements:
// the process runtime (the embedded default), Docker and, later, Kubernetes.
//
// A backend creates, starts, stops, removes, lists, inspects and reads the
// logs of containers that run the Dockyard agent. Containers carry labels
// (see the Label* keys) so that a restarted server can find the containers
// it started before. Every backend runs the conformance suite in
// internal/runtime/runtimetest.
package runtime

import (
	"bytes"
	"context"
	"io"
	"time"
)

// Standard label keys that identify Dockyard's containers.
const (
	LabelServerID  = "dockyard.server-id" // the server that created the container
	LabelContainer = "dockyard.container" // the container record's name
	LabelOwner     = "dockyard.owner"     // the user the container belongs to
	LabelModel     = "dockyard.model"     // the model the container serves, if any
	LabelManaged   = "dockyard.managed"   // always "true" on containers Dockyard created
)

// State is a container's lifecycle state as the backend sees it.
type State string

// The states a container can be in.
const (
	StateCreated State = "created" // created, never started
	StateRunning State = "running" // its agent process is alive
	StateExited  State = "exited"  // stopped, or its process died
)

// Limits are resource limits for a container. Zero means unlimited (or
// the backend's configured default).
type Limits struct {
	CPUs        float64 `json:"cpus,omitempty"`
	MemoryBytes int64   `json:"memory_bytes,omitempty"`
	// MaxProcs bounds the processes (and threads) of the container.
	MaxProcs int64 `json:"max_procs,omitempty"`
	// MaxOpenFiles bounds the open files of each of its processes.
	MaxOpenFiles int64 `json:"max_open_files,omitempty"`
}

// Spec describes a container to create.
type Spec struct {
	// Name is unique among the backend's containers: letters, digits, '_', '-', '.'.
	Name string `json:"name"`
	// Image is the container image; the process runtime records it only.
	Image string `json:"image"`
	// Labels are stored with the container; LabelManaged is always added.
	Labels map[string]string `json:"labels,omitempty"`
	// Env is added to the agent's environment.
	Env map[string]string `json:"env,omitempty"`
	// Files are written into the container before it starts, keyed by a
	// slash-separated path relative to the container root, such as
	// "notebooks/linear_regression.ipynb" or "app/model/data/x.json".
	Files map[string][]byte `json:"-"`
	// GPUs is the number of GPUs to attach; backends that cannot isolate
	// GPUs refuse a non-zero value.
	GPUs int `json:"gpus,omitempty"`
	// GPUDevices, when set, are the GPUs to attach (GPUs of them), chosen
	// by the server so that no two containers share one; empty: the
	// backend picks GPUs by count.
	GPUDevices []string `json:"gpu_devices,omitempty"`
	// Limits are resource limits.
	Limits Limits `json:"limits,omitempty"`
	// Args are extra arguments for the agent.
	Args []string `json:"args,omitempty"`
	// AgentCert, when set, is what the agent serves instead of a
	// certificate the server CA issues: an operator's pair
	// (containers.certs_dir), checked before it gets here.
	AgentCert *KeyPair `json:"-"`
}

// KeyPair is a PEM certificate chain (leaf first) and its private key.
type KeyPair struct {
	CertPEM, KeyPEM []byte
}

// Container is a container as a backend reports it.
type Container struct {
	ID       string            `json:"id"`
	Name     string            `json:"name"`
	Image    string            `json:"image"`
	Labels   map[string]string `json:"labels"`
	State    State             `json:"state"`
	Endpoint string            `json:"endpoint,omitempty"` // https://host:port of the agent while running
	Created  time.Time         `json:"created"`
	Started  time.Time         `json:"started,omitempty"`
	// Token is the bearer token the agent accepts. It is a secret: never
	// log, print, audit or return it from an API.
	Token string `json:"-"`
}

// Runtime is one container backend.
//
// Errors are errdefs kinds: ErrNotFound for an unknown id, ErrConflict for a
// name in use, ErrInvalid for a bad spec, ErrUnavailable when the backend
// cannot be reached. Start and Stop are idempotent.
type Runtime interface {
	// Create makes a container from spec without starting it.
	Create(ctx context.Context, spec Spec) (Container, error)
	// Start starts a created or exited container and returns once its agent
	// answers on the container's endpoint.
	Start(ctx context.Context, id string) error
	// Stop asks the container to stop, and kills it after grace.
	Stop(ctx context.Context, id string, grace time.Duration) error
	// Remove stops the container if it runs and deletes it with its files.
	Remove(ctx context.Context, id string) error
	// List returns the containers whose labels include all of labels
	// (nil or empty: every container the backend manages).
	List(ctx context.Context, labels map[string]string) ([]Container, error)
	// Inspect returns one container.
	Inspect(ctx context.Context, id string) (Container, error)
	// Logs returns the container's output written at or after since (zero:
	// all of it).
	Logs(ctx context.Context, id string, since time.Time) (io.ReadCloser, error)
}

// MatchLabels reports whether have contains every key/value of want.
func MatchLabels(have, want map[string]string) bool {
	for k, v := range want {
		if got, ok := have[k]; !ok || got != v {
			return false
		}
	}
	return true
}

// RegistryAuth is what a pull presents to a registry (never logged).
type RegistryAuth struct {
	Server   string
	Username string
	Password string
}

// ImagePuller is implemented by backends that pull images from
// registries: PullImage makes ref (repo@sha256:...) present, pulling it
// with auth (nil: anonymously) when it is not.
type ImagePuller interface {
	PullImage(ctx context.Context, ref string, auth *RegistryAuth) error
}

// ImageDigester is implemented by backends that can name the content digest
// of an image they run (the Docker runtime: the image id), so that a model
// version's lineage pins exactly the image that trained it.
type ImageDigester interface {
	ImageDigest(ctx context.Context, image string) (string, error)
}

// GPUPool is what one node (a Docker host, a Kubernetes node) can give
// containers in GPUs.
type GPUPool struct {
	Runtime string `json:"runtime"` // the backend's name: "docker", "kubernetes"
	Node    string `json:"node"`    // the Docker host or the Kubernetes node
	// Resource is how GPUs are asked for there: the engine runtime
	// ("nvidia") or the extended resource ("nvidia.com/gpu").
	Resource string `json:"resource"`
	// Capacity and Allocatable count GPUs (-1: unknown).
	Capacity    int `json:"capacity"`
	Allocatable int `json:"allocatable"`
	// Devices are device ids or models where the backend knows them.
	Devices []string `json:"devices,omitempty"`
}

// GPUInventory is implemented by backends that can give containers GPUs:
// GPUs reports each node's pool (an empty list: none here).
type GPUInventory interface {
	GPUs(ctx context.Context) ([]GPUPool, error)
}

// Tail is the end of a container's output for an error message: at most
// its last 2,000 bytes, trimmed, or "(no output)".
func Tail(out []byte) string {
	b := bytes.TrimSpace(out)
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	if len(b) == 0 {
		return "(no output)"
	}
	return string(b)
}
