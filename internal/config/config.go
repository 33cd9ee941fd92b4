// Package config holds Dockyard's server configuration: the Config struct,
// Default() (the only place defaults live), Load (YAML file, then DOCKYARD_*
// environment variables, then flags, each layer overriding the one before)
// and Validate, whose errors name the offending key.
//
// Every setting has a dotted key ("auth.session_ttl") derived from the yaml
// tags, an environment variable derived from the key
// (DOCKYARD_AUTH_SESSION_TTL) and a one-line description in its doc tag;
// Keys and Describe list them for the CLI and the documentation.
package config

import "time"

// Config is the server's configuration.
type Config struct {
	Data       string     `yaml:"data" doc:"directory holding the database, blobs, PKI and runtime state"`
	Addr       string     `yaml:"addr" doc:"HOST:PORT the HTTPS API listens on"`
	TLS        TLS        `yaml:"tls"`
	Log        Log        `yaml:"log"`
	Auth       Auth       `yaml:"auth"`
	Search     Search     `yaml:"search"`
	Models     Models     `yaml:"models"`
	Containers Containers `yaml:"containers"`
	Images     Images     `yaml:"images"`
	Telemetry  Telemetry  `yaml:"telemetry"`
	Audit      Audit      `yaml:"audit"`
	HEC        HEC        `yaml:"hec"`
	Lookups    Lookups    `yaml:"lookups"`
	Storage    Storage    `yaml:"storage"`
}

// Storage configures the upkeep of the database and the blob store.
type Storage struct {
	GCInterval         time.Duration `yaml:"gc_interval" doc:"how often blobs that nothing references are garbage-collected (also at start); 0 turns periodic collection off (dockyard admin gc still runs one)"`
	GCGrace            time.Duration `yaml:"gc_grace" doc:"an unreferenced blob is collected only once this long has passed since it was last written or checked, so that uploads, imports and fits in flight keep theirs"`
	SkipIntegrityCheck bool          `yaml:"skip_integrity_check" doc:"DANGEROUS: start even when the database fails its integrity check at start; a damaged database can then lose or corrupt more data (restore from a backup instead)"`
}

// Audit configures the hash-chained audit trail.
type Audit struct {
	CheckpointInterval time.Duration `yaml:"checkpoint_interval" doc:"how often the server signs a checkpoint of the audit chain (also at shutdown)"`
	CheckpointHECURL   string        `yaml:"checkpoint_hec_url" doc:"HTTP Event Collector event endpoint (https://HOST:PORT/services/collector/event) that receives every signed audit checkpoint; empty: checkpoints stay in the data dir"`
	CheckpointHECToken string        `yaml:"checkpoint_hec_token" doc:"HEC token for audit.checkpoint_hec_url"`
	CheckpointHECCA    string        `yaml:"checkpoint_hec_ca_file" doc:"PEM CA bundle that verifies audit.checkpoint_hec_url's certificate; empty: the system's roots"`
	MaxTextBytes       int           `yaml:"max_text_bytes" doc:"longest message or detail text (a traceback, say) kept in an audit event, after secrets are redacted; longer ones are cut"`
}

// HEC configures the HTTP Event Collector.
type HEC struct {
	MaxBodyBytes   int64         `yaml:"max_body_bytes" doc:"largest HEC request body (and decompressed gzip body) accepted; larger ones get 413"`
	AckMaxIDs      int           `yaml:"ack_max_ids" doc:"indexer acknowledgement: ack ids remembered per channel (older ones answer false)"`
	AckChannelIdle time.Duration `yaml:"ack_channel_idle" doc:"indexer acknowledgement: a channel unused this long is forgotten"`
}

// TLS configures the server's certificate.
type TLS struct {
	CertFile      string        `yaml:"cert_file" doc:"operator-provided PEM certificate (leaf first); empty: issue one from the server CA"`
	KeyFile       string        `yaml:"key_file" doc:"private key for cert_file; set both or neither"`
	ServerCertTTL time.Duration `yaml:"server_cert_ttl" doc:"validity of the server certificate issued by the server CA; it is renewed at start within 30 days of expiry"`
}

// Log configures the server's structured log.
type Log struct {
	Level  string `yaml:"level" doc:"debug, info, warn or error"`
	Format string `yaml:"format" doc:"text or json"`
}

// Auth configures sessions, API tokens and login throttling.
type Auth struct {
	SessionTTL               time.Duration `yaml:"session_ttl" doc:"lifetime of a login session"`
	APITokenMaxTTL           time.Duration `yaml:"api_token_max_ttl" doc:"longest expiry an API token may be created with"`
	LoginFailuresBeforeDelay int           `yaml:"login_failures_before_delay" doc:"failed logins for a user before each further attempt is delayed"`
	LoginDelayBase           time.Duration `yaml:"login_delay_base" doc:"first delay imposed once a user or address reaches login_failures_before_delay; it doubles with each further failure"`
	LoginDelayMax            time.Duration `yaml:"login_delay_max" doc:"upper bound of the (doubling) delay after repeated failed logins"`
	LoginWindow              time.Duration `yaml:"login_window" doc:"how long failed logins are remembered"`
}

// Search limits search jobs.
type Search struct {
	MaxRows          int64         `yaml:"max_rows" doc:"most rows a search may return or send to a container"`
	MaxTime          time.Duration `yaml:"max_time" doc:"longest a search job may run"`
	DefaultIndexes   string        `yaml:"default_indexes" doc:"comma-separated indexes a search reads when it names no index="`
	MaxMemory        int64         `yaml:"max_memory" doc:"most bytes of rows and values one search may keep in memory (sort, stats, eventstats, timechart, dedup, join, subsearch results)"`
	SubsearchMaxRows int64         `yaml:"subsearch_max_rows" doc:"most rows a subsearch of append, appendpipe or join passes on; maxout= may lower it"`
	SubsearchMaxTime time.Duration `yaml:"subsearch_max_time" doc:"longest a subsearch of append, appendpipe or join may run before its results so far are used; maxtime= may lower it"`
}

// Lookups configures CSV lookups.
type Lookups struct {
	MaxBytes int64 `yaml:"max_bytes" doc:"largest lookup file accepted by upload or outputlookup"`
}

// Models configures the model registry.
type Models struct {
	KeepVersions int `yaml:"keep_versions" doc:"versions kept per model besides those an alias points at; 0 keeps every version"`
	PageSize     int `yaml:"page_size" doc:"models per page of a listing when the caller names no limit"`
	MaxPageSize  int `yaml:"max_page_size" doc:"largest page of models a listing may ask for"`
	// MaxImportBytes bounds models import archives.
	MaxImportBytes int64 `yaml:"max_import_bytes" doc:"largest model archive models import accepts"`
}

// Containers configures where fit and apply run.
type Containers struct {
	Runtime      string        `yaml:"runtime" doc:"default container runtime: process, docker or kubernetes"`
	Python       string        `yaml:"python" doc:"Python interpreter the process runtime runs notebooks with"`
	DefaultImage string        `yaml:"default_image" doc:"image catalogue entry a container starts from when it names none"`
	StopGrace    time.Duration `yaml:"stop_grace" doc:"how long a stopping container gets before it is killed"`
	StartTimeout time.Duration `yaml:"start_timeout" doc:"how long a starting container's agent may take to answer before the start fails"`
	SyncInterval time.Duration `yaml:"sync_interval" doc:"how often notebooks changed inside running containers are copied to the central store (and missing ones restored into them); 0 turns sync off"`
	// SyncWatchScan, FinalSyncTimeout and ReconcileInterval: see
	// docs/containers.md (push-based sync, final sync, reconciler).
	SyncWatchScan     time.Duration   `yaml:"sync_watch_scan" doc:"how often the server looks for newly running containers to follow their agents' change feeds (push-based sync: a change is stored within about a second of the last write); 0 turns push-based sync off, leaving the passes of sync_interval"`
	FinalSyncTimeout  time.Duration   `yaml:"final_sync_timeout" doc:"how long containers stop and remove wait for the final notebook sync; when it fails or runs out, they refuse unless --force"`
	ReconcileInterval time.Duration   `yaml:"reconcile_interval" doc:"how often the reconciler compares the runtimes' containers with the records (adopt, mark lost, quarantine orphans); it also runs at start; 0: only at start"`
	AgentCertTTL      time.Duration   `yaml:"agent_cert_ttl" doc:"validity of the TLS certificate the server CA issues to each container's agent"`
	AgentCommand      string          `yaml:"agent_command" doc:"program the process runtime runs as 'PROGRAM agent ...'; empty: this dockyard binary"`
	HECTokens         bool            `yaml:"hec_tokens" doc:"give each container a HEC token for the indexes its owner may search (never _internal), passed to its notebooks as DOCKYARD_HEC_URL and DOCKYARD_HEC_TOKEN; deleted when the container stops"`
	CertsDir          string          `yaml:"certs_dir" doc:"directory of operator certificate pairs NAME.pem (leaf first) and NAME.key (mode 0600) that agents serve instead of ones the server CA issues, named by images add --cert or containers start --cert; empty: none"`
	CertsCAFile       string          `yaml:"certs_ca_file" doc:"PEM CA bundle every certificate in containers.certs_dir must chain to; the server trusts it when it dials agents"`
	Process           ProcessRuntime  `yaml:"process"`
	Kubernetes        Kubernetes      `yaml:"kubernetes"`
	Limits            ContainerLimits `yaml:"limits"`
	// IdleTimeout and Jupyter: see docs/notebooks.md (Jupyter in
	// development containers, idle culling).
	IdleTimeout time.Duration   `yaml:"idle_timeout" doc:"a development container with no Jupyter activity, no open kernel and no fit, apply or summary for this long is synced, then stopped (audited as container.cull); 0 never stops one"`
	Jupyter     JupyterSettings `yaml:"jupyter"`
	GPU         ContainerGPU    `yaml:"gpu"`
}

// ContainerGPU governs GPUs (see docs/gpus.md).
type ContainerGPU struct {
	DefaultQuota  int    `yaml:"default_quota" doc:"the most GPUs a user may hold when no quota names them or any of their roles (dockyard gpu quota set); 0: none until an administrator sets a quota; -1: no limit but the hardware's"`
	DockerDevices string `yaml:"docker_devices" doc:"the GPUs of the Docker host, as nvidia-smi -L shows them (indexes 0,1,2,3 or UUIDs), separated by commas: each container with GPUs gets its own of them and a start is refused when too few are free; empty: the engine picks GPUs by count, and containers may share them"`
}

// Images configures the image catalogue.
type Images struct {
	ScannerCommand string        `yaml:"scanner_command" doc:"scanner installed on the server's host run on every docker image images add or update pins, its standard output imported as the image's scan report: arguments split on spaces (no shell), {ref} is what the entry runs, {digest} its digest, {name} its name, e.g. 'trivy image --quiet --format json {ref}'; empty: none"`
	ScannerTimeout time.Duration `yaml:"scanner_timeout" doc:"longest images.scanner_command may run on one image before it is stopped (the add or update then goes on unscanned)"`
	// MaxArchiveBytes bounds the image archives images load accepts.
	MaxArchiveBytes int64 `yaml:"max_archive_bytes" doc:"largest image archive images load accepts (bytes); a larger upload is refused as it arrives"`
}

// Kubernetes configures the Kubernetes runtime (docs/kubernetes.md). It
// is on when Kubeconfig is set or InCluster is true.
type Kubernetes struct {
	Kubeconfig      string `yaml:"kubeconfig" doc:"kubeconfig file of the cluster the kubernetes runtime runs containers in; empty (and in_cluster off): no kubernetes runtime"`
	InCluster       bool   `yaml:"in_cluster" doc:"use the server's own ServiceAccount (the server runs in the cluster) instead of a kubeconfig"`
	Namespace       string `yaml:"namespace" doc:"namespace of the containers' Pods, Secrets, Services and NetworkPolicies; empty: the server's own namespace in the cluster, else default"`
	RunAsUser       int64  `yaml:"run_as_user" doc:"UID (and GID, fsGroup) the agents run as; 0 leaves it to the platform (OpenShift's restricted SCC assigns one); never root"`
	ServerPodLabels string `yaml:"server_pod_labels" doc:"labels (k=v,...) of the server's Pods: the only Pods each container's NetworkPolicy admits to its agent"`
	ServerNamespace string `yaml:"server_namespace" doc:"namespace of the server's Pods when it is not the containers' namespace"`
	ServerCIDRs     string `yaml:"server_cidrs" doc:"address ranges (comma-separated CIDRs) the NetworkPolicies admit too: a server outside the cluster"`
	GPUNodeSelector string `yaml:"gpu_node_selector" doc:"node selector (k=v,...) of Pods that request GPUs"`
	GPUTolerations  string `yaml:"gpu_tolerations" doc:"tolerations (KEY[=VALUE]:EFFECT,...) of Pods that request GPUs; KEY alone tolerates any value"`
	ImagePullPolicy string `yaml:"image_pull_policy" doc:"the agent container's image pull policy: IfNotPresent, Always or Never"`
	AgentRootSize   string `yaml:"agent_root_size" doc:"size (such as 10Gi) of a PersistentVolumeClaim per container for its agent root, so that what the agent writes survives a stop; empty: an emptyDir"`
	StorageClass    string `yaml:"storage_class" doc:"storage class of those claims; empty: the cluster's default"`
	Endpoint        string `yaml:"endpoint" doc:"how the server reaches an agent: service (its Service's cluster IP) or dns (the Service's name; the server must resolve cluster DNS)"`
}

// JupyterSettings configure the Jupyter server of development containers.
type JupyterSettings struct {
	Enabled bool   `yaml:"enabled" doc:"development containers (each user's __dev__) started from now on run a Jupyter server beside the agent when their image has one, proxied at /jupyter/OWNER/__dev__/"`
	Program string `yaml:"program" doc:"the Jupyter program inside the container (a name on its PATH or a path); empty: jupyter-lab, else jupyter-notebook"`
}

// ProcessRuntime configures the process runtime's sandbox.
type ProcessRuntime struct {
	Sandbox string `yaml:"sandbox" doc:"required, auto or off: run each process-runtime container in a bubblewrap sandbox; auto sandboxes when bwrap works and otherwise runs unsandboxed (administrators only)"`
	Bwrap   string `yaml:"bwrap" doc:"the bubblewrap program (Debian package bubblewrap)"`
}

// ContainerLimits are the resource limits of containers whose request
// names none.
type ContainerLimits struct {
	MemoryBytes  int64 `yaml:"memory_bytes" doc:"memory each process of a container may use (process runtime: RLIMIT_DATA; docker: the container's memory limit); 0: unlimited"`
	MaxProcs     int64 `yaml:"max_procs" doc:"processes and threads of a container (process runtime: RLIMIT_NPROC, not enforced for root; docker: pids limit); 0: unlimited"`
	MaxOpenFiles int64 `yaml:"max_open_files" doc:"open files of each process of a container (RLIMIT_NOFILE); 0: unlimited"`
}

// Telemetry configures traces and metrics export.
type Telemetry struct {
	OTLPEndpoint string `yaml:"otlp_endpoint" doc:"OpenTelemetry collector (host:port or http(s) URL); empty disables export"`
	ServiceName  string `yaml:"service_name" doc:"service.name reported with traces and metrics"`
}

// Default returns the default configuration. It is the only place defaults
// live; everything else takes its values from a Config.
func Default() Config {
	return Config{
		Data: "./dockyard-data",
		Addr: "127.0.0.1:8089",
		TLS: TLS{
			ServerCertTTL: 365 * 24 * time.Hour,
		},
		Log: Log{Level: "info", Format: "text"},
		Auth: Auth{
			SessionTTL:               12 * time.Hour,
			APITokenMaxTTL:           8760 * time.Hour,
			LoginFailuresBeforeDelay: 5,
			LoginDelayBase:           time.Second,
			LoginDelayMax:            5 * time.Minute,
			LoginWindow:              15 * time.Minute,
		},
		Search: Search{MaxRows: 1_000_000, MaxTime: 10 * time.Minute, DefaultIndexes: "main",
			MaxMemory: 256 << 20, SubsearchMaxRows: 50_000, SubsearchMaxTime: time.Minute},
		Lookups: Lookups{MaxBytes: 100 << 20},
		Models:  Models{KeepVersions: 20, PageSize: 50, MaxPageSize: 1000, MaxImportBytes: 4 << 30},
		Containers: Containers{
			Runtime:           "process",
			Python:            "python3",
			DefaultImage:      "dockyard/process",
			StopGrace:         10 * time.Second,
			StartTimeout:      60 * time.Second,
			SyncInterval:      10 * time.Second,
			SyncWatchScan:     time.Second,
			FinalSyncTimeout:  30 * time.Second,
			ReconcileInterval: time.Minute,
			AgentCertTTL:      30 * 24 * time.Hour,
			Process:           ProcessRuntime{Sandbox: "auto", Bwrap: "/usr/bin/bwrap"},
			Limits:            ContainerLimits{MemoryBytes: 4 << 30, MaxProcs: 1024, MaxOpenFiles: 4096},
			IdleTimeout:       time.Hour,
			Jupyter:           JupyterSettings{Enabled: true},
			GPU:               ContainerGPU{DefaultQuota: 0},
			Kubernetes: Kubernetes{RunAsUser: 65534, ServerPodLabels: "app.kubernetes.io/name=dockyard",
				ImagePullPolicy: "IfNotPresent", Endpoint: "service"},
		},
		Images:    Images{ScannerTimeout: 10 * time.Minute, MaxArchiveBytes: 32 << 30},
		Telemetry: Telemetry{ServiceName: "dockyard"},
		Audit:     Audit{CheckpointInterval: 5 * time.Minute, MaxTextBytes: 8 << 10},
		HEC:       HEC{MaxBodyBytes: 16 << 20, AckMaxIDs: 1_000_000, AckChannelIdle: 10 * time.Minute},
		Storage:   Storage{GCInterval: 24 * time.Hour, GCGrace: time.Hour},
	}
}
