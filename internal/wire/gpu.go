package wire

import "time"

// GPUPool is what one node (a Docker host, a Kubernetes node) can give
// containers in GPUs. Capacity and Allocatable are -1 when unknown.
type GPUPool struct {
	Node        string   `json:"node"`
	Resource    string   `json:"resource"`
	Capacity    int      `json:"capacity"`
	Allocatable int      `json:"allocatable"`
	Devices     []string `json:"devices,omitempty"`
}

// GPURuntime is one runtime's GPUs: Supported is false for a runtime that
// gives none (process); Error says why its pools could not be read.
type GPURuntime struct {
	Name      string    `json:"name"`
	Supported bool      `json:"supported"`
	Pools     []GPUPool `json:"pools"`
	Error     string    `json:"error,omitempty"`
}

// GPUHolder is a container that holds GPUs.
type GPUHolder struct {
	Container string     `json:"container"`
	Owner     string     `json:"owner"`
	Runtime   string     `json:"runtime"`
	Status    string     `json:"status"`
	GPUs      int        `json:"gpus"`
	Started   *time.Time `json:"started,omitempty"`
	// Devices are the GPUs it holds for itself (containers.gpu.docker_devices).
	Devices []string `json:"devices,omitempty"`
}

// GPULimit is a user's GPU limit (-1: none), the rule that decides it,
// and the GPUs they hold.
type GPULimit struct {
	User   string `json:"user"`
	Max    int    `json:"max"`
	Source string `json:"source"`
	Held   int    `json:"held"`
}

// GPUInventory answers GET /v1/gpus: each runtime's pools, the containers
// that hold GPUs among those the caller may see, and the caller's limit.
type GPUInventory struct {
	Runtimes []GPURuntime `json:"runtimes"`
	Holders  []GPUHolder  `json:"holders"`
	You      GPULimit     `json:"you"`
}

// GPUQuota caps the GPUs of one user, or of each member of a role.
type GPUQuota struct {
	Kind      string    `json:"kind"` // user | role
	Name      string    `json:"name"`
	Max       int       `json:"max"`
	UpdatedBy string    `json:"updated_by"`
	Updated   time.Time `json:"updated"`
}

// GPUQuotaSet is the body of PUT /v1/gpu/quotas/{kind}/{name}.
type GPUQuotaSet struct {
	Max int `json:"max"`
}
