package wire

import "time"

// Container is a container as `containers list -o json` shows it. The
// token of an external container is never shown: TokenHint holds its last
// four characters.
type Container struct {
	Name    string `json:"name"`
	Image   string `json:"image"`
	Runtime string `json:"runtime"`
	Status  string `json:"status"`
	Model   string `json:"model"`
	Owner   string `json:"owner"`
	GPUs    int    `json:"gpus"`
	// GPUDevices are the GPUs the server gave it for itself (absent when
	// its runtime picks them).
	GPUDevices []string   `json:"gpu_devices,omitempty"`
	Endpoint   string     `json:"endpoint"`
	Started    *time.Time `json:"started"`
	StartedBy  string     `json:"started_by,omitempty"`
	Desired    string     `json:"desired"`
	Message    string     `json:"message,omitempty"`
	Created    time.Time  `json:"created"`
	TokenHint  string     `json:"token_last4,omitempty"`
	// Roles are the roles the owner shares it with (absent: none).
	Roles []string `json:"roles,omitempty"`
	// Cert is the container's own operator certificate pair (absent:
	// its image entry's, or one the server CA issues).
	Cert string `json:"cert,omitempty"`
}

// ContainerStart is the body of POST /v1/containers/{name}/start.
type ContainerStart struct {
	Image   string `json:"image,omitempty"`
	Runtime string `json:"runtime,omitempty"`
	Model   string `json:"model,omitempty"`
	GPUs    int    `json:"gpus,omitempty"`
	// Cert names an operator certificate pair (containers.certs_dir) for
	// the agent; it needs configure_mltk_container.
	Cert string `json:"cert,omitempty"`
}

// ContainerRegister is the body of POST /v1/containers/{name}/register.
type ContainerRegister struct {
	URL   string `json:"url"`
	Token string `json:"token"`
	CAPEM string `json:"ca_pem,omitempty"`
	Model string `json:"model,omitempty"`
}

// ContainerShare is the body of POST /v1/containers/{name}/share: the
// roles the container is shared with from now on (empty: none, only its
// owner and administrators).
type ContainerShare struct {
	Roles []string `json:"roles"`
}
