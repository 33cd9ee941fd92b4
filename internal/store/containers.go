package store

import (
	"context"
	"time"
)

// Container is the record of a container Dockyard manages (or, for the
// external runtime, uses): what it should be (Desired) and what it was last
// seen to be (Status). (Name, Scope) is unique: Scope is "" for shared
// containers and the owner for per-user ones such as each user's __dev__.
type Container struct {
	ID       int64
	Name     string
	Scope    string
	Owner    string
	Image    string
	Runtime  string // process | docker | external
	Desired  string // running | stopped
	Status   string // created | starting | running | stopped | exited | lost | failed
	Message  string // why the status is what it is (a failure, "lost")
	Endpoint string // https://host:port of the agent while running
	Model    string
	GPUs     int
	// GPUDevices are the devices the server gave it for itself, when its
	// runtime's devices are listed (containers.gpu.docker_devices); nil
	// when the runtime picks (by count, or a device plugin).
	GPUDevices []string
	RuntimeID  string // the runtime's id; "" before creation
	Started    time.Time
	StartedBy  string
	Created    time.Time
	Updated    time.Time
	// External runtime only: the agent's bearer token sealed with
	// internal/secrets, a hint of its last characters, and the PEM CA
	// bundle that verifies the endpoint.
	TokenSealed string
	TokenHint   string
	CAPEM       string
	// Roles are the roles its owner shares it with: their holders (with
	// control_mltk_container) may run code in it and see it listed. Empty:
	// only its owner and administrators. Development containers (Scope
	// set) are never shared.
	Roles []string

	// Cert names the operator certificate pair (containers.certs_dir)
	// its agent serves; "" for one the server CA issues.
	Cert string
}

// ContainerStore keeps container records.
type ContainerStore interface {
	// CreateContainer inserts c (ID is assigned); ErrConflict when (Name,
	// Scope) is taken.
	CreateContainer(ctx context.Context, c Container) (Container, error)
	// GetContainer returns the record (Name, Scope), or ErrNotFound.
	GetContainer(ctx context.Context, name, scope string) (Container, error)
	// ListContainers returns every record ordered by name, then scope.
	ListContainers(ctx context.Context) ([]Container, error)
	// UpdateContainer replaces every field of the record c.ID but Name,
	// Scope and Created; ErrNotFound when it is gone.
	UpdateContainer(ctx context.Context, c Container) error
	// DeleteContainer removes the record id; ErrNotFound when it is gone.
	DeleteContainer(ctx context.Context, id int64) error
}
