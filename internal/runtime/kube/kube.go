// Package kube is the Kubernetes backend of runtime.Runtime: each container
// is a Pod that runs `dockyard agent` from its image, with
//
//   - a Secret holding its TLS certificate and key, its API token and the
//     server CA the agent requires client certificates from (mounted
//     read-only at SecretDir, never in the Pod's spec or environment);
//   - a Service (ClusterIP) in front of the agent port: its cluster IP is
//     allocated when the container is created, so the agent certificate is
//     issued for it (and the Service's DNS names) before the Pod exists, and
//     stays valid across restarts, which give the Pod a new IP. The
//     endpoint the server dials is https://CLUSTER-IP:AgentPort;
//   - a NetworkPolicy admitting only the server (its pods, by label, or its
//     addresses) to the agent port.
//
// The Pod is as hardened as the Docker runtime's containers and valid
// under OpenShift's restricted policy: non-root (any UID: the platform may
// assign one), no privilege escalation, RuntimeDefault seccomp, every
// capability dropped, a read-only root file system with emptyDir volumes
// for the agent root and /tmp, no service account token, and no host
// namespace. Its resources come from the spec's limits (the configured
// defaults where 0); GPUs are requested (limits nvidia.com/gpu) only when
// the spec asks for them, on nodes chosen by the configured node selector
// and tolerations.
//
// A container's objects share one name, "dockyard-" plus a hash of the
// runtime's scope and the container's name, which makes names unique per
// scope (a second Create of a name conflicts on the Secret), and carry
// runtime.LabelManaged, LabelScope and LabelKey. The container's id is that
// hash and the Secret's UID, so an id names one incarnation. A new Runtime
// over the same namespace and scope adopts the containers by label: the
// token and certificate are read back from the Secret, nothing is kept on
// the server's disk.
//
// Start creates the Pod (restartPolicy Never) and waits until the agent
// answers on the endpoint. Stop sets the Pod's activeDeadlineSeconds, so
// that the kubelet stops it (after its terminationGracePeriodSeconds, set
// from Config.RemoveGrace) and its logs stay readable through pods/log; a
// later Start replaces the stopped Pod with a new one. The agent root is
// an emptyDir, or with Config.AgentRootSize a PersistentVolumeClaim of the
// container that survives stops.
package kube

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"regexp"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/runtime"
)

// Labels and annotations this runtime puts on its objects (besides
// runtime.LabelManaged and the spec's labels that are valid label values).
const (
	LabelScope    = "dockyard.runtime-scope" // the scope, or its hash when not a valid label value
	LabelKey      = "dockyard.runtime-key"   // the hash that names the container's objects
	LabelPart     = "dockyard.runtime-part"  // container, env, files or registry
	LabelRegistry = "dockyard.registry"      // the registry host's hash, on pull secrets

	AnnotationName        = "dockyard.io/name"       // Spec.Name
	AnnotationImage       = "dockyard.io/image"      // Spec.Image
	AnnotationLabels      = "dockyard.io/labels"     // Spec.Labels as JSON, exactly
	AnnotationGPUs        = "dockyard.io/gpus"       // Spec.GPUs
	AnnotationSpec        = "dockyard.io/spec"       // the rest of the spec (args, env, limits, file paths) as JSON
	AnnotationStarted     = "dockyard.io/started"    // on the Secret once a Pod was created
	AnnotationIncarnation = "dockyard.io/secret-uid" // on the Pod: the container it belongs to
	AnnotationRegistry    = "dockyard.io/registry"   // the host of a pull secret
)

// Parts of a container (LabelPart values).
const (
	partContainer = "container"
	partEnv       = "env"
	partFiles     = "files"
	partRegistry  = "registry"
)

// Paths and ports inside the Pod.
const (
	AgentRoot = "/srv"          // the agent's root (an emptyDir)
	SecretDir = "/run/dockyard" // the Secret: cert.pem, key.pem, token, client-ca.pem, hec-ca.pem
	// ClientCAFile is Config.ClientCAPEM in the Pod (--client-ca).
	ClientCAFile = SecretDir + "/client-ca.pem"
	// HECCAFile is where StartWithEnv puts the HEC CA file named by
	// DOCKYARD_HEC_CA_FILE, a path on the server's machine.
	HECCAFile = SecretDir + "/hec-ca.pem"
	AgentPort = 8443 // the agent listens on 0.0.0.0:AgentPort; the Service forwards the same port
	// ContainerName is the agent's container in the Pod.
	ContainerName = "agent"
)

// GPUResource is the extended resource GPUs are requested as.
const GPUResource = "nvidia.com/gpu"

// Issuer issues TLS server certificates; *pki.CA implements it.
type Issuer interface {
	IssueServer(cn string, hosts []string, ttl time.Duration) (certPEM, keyPEM []byte, err error)
}

// Toleration is a Pod toleration for GPU nodes (as in the Pod spec).
type Toleration struct {
	Key      string `json:"key,omitempty" yaml:"key"`
	Operator string `json:"operator,omitempty" yaml:"operator"` // Exists or Equal ("": Equal)
	Value    string `json:"value,omitempty" yaml:"value"`
	Effect   string `json:"effect,omitempty" yaml:"effect"` // NoSchedule, PreferNoSchedule, NoExecute, "" (all)
}

// Config configures the runtime. Zero values: in-cluster configuration
// when Kubeconfig and REST are empty; Namespace "default"; Entrypoint
// ["/dockyard"]; RunAsUser 65534; CertTTL 30 days; StartTimeout 120 s;
// RemoveGrace 5 s; ServerPodLabels app.kubernetes.io/name=dockyard when no
// ServerCIDRs are given either.
type Config struct {
	// Kubeconfig is a kubeconfig file; "" uses the in-cluster
	// configuration (the server's ServiceAccount).
	Kubeconfig string
	// REST, when set, is used instead of Kubeconfig (tests).
	REST *rest.Config
	// Namespace holds the containers' objects.
	Namespace string
	Issuer    Issuer
	// Scope separates the containers of several servers (or tests) in one
	// namespace: it is stored as LabelScope.
	Scope string
	// Entrypoint is the dockyard binary in the image; "agent" and its
	// flags follow.
	Entrypoint []string
	Python     string // interpreter the agents' notebook runners use
	// RunAsUser is the UID (and GID, and fsGroup) the agent runs as; 0
	// means DefaultRunAsUser. The Pod always says runAsNonRoot.
	RunAsUser int64
	// PlatformUser leaves the UID, GID and fsGroup to the platform
	// (OpenShift's restricted SCC assigns them from the namespace's
	// range) instead of RunAsUser.
	PlatformUser bool
	CertTTL      time.Duration
	StartTimeout time.Duration
	// RemoveGrace is the Pod's terminationGracePeriodSeconds: how long a
	// stop or removal waits for the agent before it is killed.
	RemoveGrace time.Duration
	Logger      *slog.Logger
	// ClientCAPEM is the CA whose client certificates the agents require
	// (mutual TLS); ClientCert is the certificate Start's readiness check
	// presents.
	ClientCAPEM []byte
	ClientCert  *tls.Certificate
	// Limits apply to containers whose spec leaves a limit at 0 (CPUs and
	// memory become the Pod's requests and limits; MaxProcs and
	// MaxOpenFiles are the kubelet's and the node's to set).
	Limits        runtime.Limits
	LimitsSetting string
	// ServerPodLabels select the server's Pods, the only ones the
	// NetworkPolicy admits to the agent port; ServerNamespace is their
	// namespace ("": Namespace). ServerCIDRs admit addresses too (a server
	// outside the cluster).
	ServerPodLabels map[string]string
	ServerNamespace string
	ServerCIDRs     []string
	// GPUNodeSelector and GPUTolerations go on Pods that request GPUs only.
	GPUNodeSelector map[string]string
	GPUTolerations  []Toleration
	// ImagePullPolicy is the agent container's ("": IfNotPresent; images
	// are pinned by digest).
	ImagePullPolicy string
	// AgentRootSize, when set (a quantity such as 10Gi), gives each
	// container a PersistentVolumeClaim of that size for its agent root,
	// so that what the agent writes survives a stop; "" uses an emptyDir.
	// StorageClass is the claim's class ("": the cluster's default).
	AgentRootSize string
	StorageClass  string
	// Endpoint is how the server reaches an agent: "service" (the Service's
	// cluster IP, the default) or "dns" (its DNS name in the cluster).
	Endpoint string
}

// DefaultRunAsUser is the UID the agents run as by default: nobody.
const DefaultRunAsUser = 65534

// Runtime is the Kubernetes runtime.
type Runtime struct {
	cfg      Config
	cs       kubernetes.Interface
	log      *slog.Logger
	host     string // the API server, for messages
	scopeVal string // LabelScope's value
	watch    podWatch
}

var (
	_ runtime.Runtime      = (*Runtime)(nil)
	_ runtime.ImagePuller  = (*Runtime)(nil)
	_ runtime.GPUInventory = (*Runtime)(nil)
)

// RESTConfig loads a kubeconfig file, or the in-cluster configuration when
// path is "".
func RESTConfig(path string) (*rest.Config, error) {
	if path == "" {
		c, err := rest.InClusterConfig()
		if err != nil {
			return nil, errdefs.Unavailablef("kubernetes runtime: no kubeconfig is set and this is not a pod in a cluster (%w): set containers.kubernetes.kubeconfig", err)
		}
		return c, nil
	}
	c, err := clientcmd.BuildConfigFromFlags("", path)
	if err != nil {
		return nil, errdefs.Invalidf("kubernetes runtime: kubeconfig %s: %w", path, err)
	}
	return c, nil
}

// New returns a runtime over the cluster. It does no I/O; Ping checks that
// the API server answers.
func New(cfg Config) (*Runtime, error) {
	if cfg.Issuer == nil {
		return nil, errdefs.Invalid("kubernetes runtime: no certificate issuer")
	}
	if len(cfg.ClientCAPEM) > 0 {
		if !x509.NewCertPool().AppendCertsFromPEM(cfg.ClientCAPEM) {
			return nil, errdefs.Invalid("kubernetes runtime: the client CA holds no PEM certificate")
		}
		if cfg.ClientCert == nil {
			return nil, errdefs.Invalid("kubernetes runtime: a client CA is set but no client certificate: the readiness check needs one the agents accept")
		}
	}
	if cfg.Namespace == "" {
		cfg.Namespace = "default"
	}
	if len(cfg.Entrypoint) == 0 {
		cfg.Entrypoint = []string{"/dockyard"}
	}
	if cfg.RunAsUser < 0 {
		return nil, errdefs.Invalidf("kubernetes runtime: run_as_user %d: give a UID above 0, or 0 to let the platform assign one", cfg.RunAsUser)
	}
	if cfg.RunAsUser == 0 && !cfg.PlatformUser {
		cfg.RunAsUser = DefaultRunAsUser
	}
	if cfg.CertTTL <= 0 {
		cfg.CertTTL = 30 * 24 * time.Hour
	}
	if cfg.StartTimeout <= 0 {
		cfg.StartTimeout = 120 * time.Second
	}
	if cfg.RemoveGrace <= 0 {
		cfg.RemoveGrace = 5 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Limits.CPUs < 0 || cfg.Limits.MemoryBytes < 0 {
		return nil, errdefs.Invalid("kubernetes runtime: limits must be 0 (unlimited) or more")
	}
	if len(cfg.ServerPodLabels) == 0 && len(cfg.ServerCIDRs) == 0 {
		cfg.ServerPodLabels = map[string]string{"app.kubernetes.io/name": "dockyard"}
	}
	for _, c := range cfg.ServerCIDRs {
		if _, _, err := net.ParseCIDR(c); err != nil {
			return nil, errdefs.Invalidf("kubernetes runtime: server CIDR %q: give an address range such as 10.0.0.5/32", c)
		}
	}
	switch cfg.Endpoint {
	case "":
		cfg.Endpoint = "service"
	case "service", "dns":
	default:
		return nil, errdefs.Invalidf("kubernetes runtime: endpoint %q: use service (the cluster IP) or dns", cfg.Endpoint)
	}
	if cfg.AgentRootSize != "" {
		q, err := resource.ParseQuantity(cfg.AgentRootSize)
		if err != nil || q.Sign() <= 0 {
			return nil, errdefs.Invalidf("kubernetes runtime: agent root size %q: give a quantity such as 10Gi", cfg.AgentRootSize)
		}
	}
	switch cfg.ImagePullPolicy {
	case "":
		cfg.ImagePullPolicy = "IfNotPresent"
	case "IfNotPresent", "Always", "Never":
	default:
		return nil, errdefs.Invalidf("kubernetes runtime: image pull policy %q: use IfNotPresent, Always or Never", cfg.ImagePullPolicy)
	}
	for _, tol := range cfg.GPUTolerations {
		if tol.Operator != "" && tol.Operator != "Exists" && tol.Operator != "Equal" {
			return nil, errdefs.Invalidf("kubernetes runtime: GPU toleration %q: operator %q: use Exists or Equal", tol.Key, tol.Operator)
		}
	}
	rc := cfg.REST
	if rc == nil {
		var err error
		if rc, err = RESTConfig(cfg.Kubeconfig); err != nil {
			return nil, err
		}
	}
	rc = rest.CopyConfig(rc)
	if rc.UserAgent == "" {
		rc.UserAgent = "dockyard"
	}
	cs, err := kubernetes.NewForConfig(rc)
	if err != nil {
		return nil, errdefs.Invalidf("kubernetes runtime: %w", err)
	}
	return &Runtime{cfg: cfg, cs: cs, log: cfg.Logger, host: rc.Host, scopeVal: scopeLabel(cfg.Scope)}, nil
}

// Clientset is the runtime's client (tests read back its objects).
func (r *Runtime) Clientset() kubernetes.Interface { return r.cs }

// Namespace is where the runtime's objects live.
func (r *Runtime) Namespace() string { return r.cfg.Namespace }

// Close stops the runtime's Pod informer.
func (r *Runtime) Close() error {
	r.watch.close()
	return nil
}

// Ping checks that the API server answers and that the runtime may list
// its Secrets; ErrUnavailable or ErrPermissionDenied otherwise.
func (r *Runtime) Ping(ctx context.Context) error {
	if _, err := r.cs.Discovery().ServerVersion(); err != nil {
		return errdefs.Unavailablef("kubernetes runtime: the API server at %s does not answer (%w): check containers.kubernetes.kubeconfig", r.host, err)
	}
	if _, err := r.cs.CoreV1().Secrets(r.cfg.Namespace).List(ctx, listOpts(r.selector(nil), 1)); err != nil {
		return r.wrap(fmt.Sprintf("kubernetes runtime: listing Secrets in namespace %s", r.cfg.Namespace), err)
	}
	return nil
}

var labelValueRE = regexp.MustCompile(`^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$`)

// validLabelValue reports whether v may be a label value.
func validLabelValue(v string) bool { return len(v) <= 63 && labelValueRE.MatchString(v) }

func scopeLabel(scope string) string {
	if validLabelValue(scope) {
		return scope
	}
	return "h-" + hash(scope)[:32]
}

func hash(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// key names the objects of the container called name: a hash of the scope
// and the name.
func (r *Runtime) key(name string) string { return hash(r.cfg.Scope + "\x00" + name)[:20] }

// objName is the name of a container's objects.
func objName(key string) string { return "dockyard-" + key }

// parseID splits a container id into its key and the Secret's UID.
func parseID(id string) (key, uid string, ok bool) {
	key, uid, ok = strings.Cut(id, "-")
	if !ok || len(key) != 20 || uid == "" {
		return "", "", false
	}
	for _, c := range key {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return "", "", false
		}
	}
	return key, uid, true
}

// wrap turns an API error into an errdefs kind with what to do.
func (r *Runtime) wrap(what string, err error) error {
	if err == nil {
		return nil
	}
	switch {
	case apierrors.IsNotFound(err):
		return errdefs.NotFoundf("%s: %w", what, err)
	case apierrors.IsAlreadyExists(err), apierrors.IsConflict(err):
		return errdefs.Conflictf("%s: %w", what, err)
	case apierrors.IsInvalid(err), apierrors.IsBadRequest(err):
		return errdefs.Invalidf("%s: %w", what, err)
	case apierrors.IsForbidden(err):
		return errdefs.PermissionDeniedf("%s: the server's identity may not do this in namespace %s (%w): grant it the Role of deploy/kubernetes/rbac.yaml", what, r.cfg.Namespace, err)
	case apierrors.IsUnauthorized(err):
		return errdefs.Unavailablef("%s: the API server at %s refused the server's credentials (%w): check containers.kubernetes.kubeconfig", what, r.host, err)
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return fmt.Errorf("%s: %w", what, err)
	}
	return errdefs.Unavailablef("%s: the API server at %s: %w", what, r.host, err)
}

func notFound(id string) error {
	return errdefs.NotFoundf("container %q not found", id)
}
