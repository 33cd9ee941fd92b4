package kube_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/dockyard/dockyard/internal/agent/agentclient"
	"github.com/dockyard/dockyard/internal/agent/agenttest"
	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/runtime"
	"github.com/dockyard/dockyard/internal/runtime/kube"
	"github.com/dockyard/dockyard/internal/runtime/kube/kubenode"
	"github.com/dockyard/dockyard/internal/runtime/runtimetest"
)

// The test binary doubles as the agent the test node runs for each Pod
// (DOCKYARD_TEST_AGENT=1).
func TestMain(m *testing.M) {
	if os.Getenv("DOCKYARD_TEST_AGENT") == "1" {
		agenttest.Main(m)
	}
	code := m.Run()
	closeCluster()
	os.Exit(code)
}

// testImage is what the Pods name; the test node runs this test binary
// whatever the image.
const testImage = "registry.dockyard.test:5000/dockyard/agent@sha256:0000000000000000000000000000000000000000000000000000000000000000"

// GPU node of the test cluster: labelled and tainted as GPU nodes are.
const (
	gpuNodeLabel = "dockyard.test/gpu"
	gpuTaint     = "nvidia.com/gpu"
)

type testCluster struct {
	rest  *rest.Config
	cs    kubernetes.Interface
	ns    string
	nodes []*kubenode.Node
}

var (
	clusterOnce sync.Once
	cluster     *testCluster
	clusterErr  error
)

// env returns the shared test cluster: a namespace of its own (enforcing
// the restricted Pod Security Standard, which the runtime's Pods must
// pass) with two test nodes, a plain one and a GPU one (2 GPUs, labelled
// and tainted). It skips without DOCKYARD_TEST_KUBECONFIG (.ci/kube.sh
// starts an API server and prints it).
func env(t *testing.T) *testCluster {
	t.Helper()
	path := os.Getenv("DOCKYARD_TEST_KUBECONFIG")
	if path == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("DOCKYARD_TEST_KUBECONFIG is not set in CI: .ci/run starts an API server with .ci/kube.sh")
		}
		t.Skip("DOCKYARD_TEST_KUBECONFIG is not set: start an API server with `eval \"$(bash .ci/kube.sh)\"`")
	}
	clusterOnce.Do(func() { cluster, clusterErr = startCluster(path) })
	if clusterErr != nil {
		t.Fatal(clusterErr)
	}
	return cluster
}

func startCluster(path string) (*testCluster, error) {
	rc, err := clientcmd.BuildConfigFromFlags("", path)
	if err != nil {
		return nil, err
	}
	rc.QPS, rc.Burst = 200, 400
	cs, err := kubernetes.NewForConfig(rc)
	if err != nil {
		return nil, err
	}
	ctx := context.Background()
	ns := "dockyard-test-" + randHex(4)
	_, err = cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns, Labels: map[string]string{
		"pod-security.kubernetes.io/enforce": "restricted", "pod-security.kubernetes.io/enforce-version": "latest",
	}}}, metav1.CreateOptions{})
	if err != nil {
		return nil, fmt.Errorf("creating namespace %s: %w", ns, err)
	}
	c := &testCluster{rest: rc, cs: cs, ns: ns}
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	for _, o := range []kubenode.Options{
		{Name: ns + "-node"},
		{Name: ns + "-gpu", GPUs: 2, Labels: map[string]string{gpuNodeLabel: "true"},
			Taints: []corev1.Taint{{Key: gpuTaint, Value: "present", Effect: corev1.TaintEffectNoSchedule}}},
	} {
		o.Namespace, o.Executable, o.Env = ns, exe, []string{"DOCKYARD_TEST_AGENT=1", "PATH=" + os.Getenv("PATH")}
		if os.Getenv("DOCKYARD_TEST_KUBENODE_LOG") != "" {
			o.Logf = func(f string, a ...any) { fmt.Fprintf(os.Stderr, f+"\n", a...) }
		}
		n, err := kubenode.Start(cs, o)
		if err != nil {
			c.close()
			return nil, err
		}
		c.nodes = append(c.nodes, n)
	}
	return c, nil
}

func closeCluster() {
	if cluster != nil {
		cluster.close()
	}
}

// close deletes what the tests left in the namespace, stops the nodes and
// deletes the namespace (no controller manager finalizes it: it stays
// Terminating, empty).
func (c *testCluster) close() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	zero := int64(0)
	_ = c.cs.CoreV1().Pods(c.ns).DeleteCollection(ctx, metav1.DeleteOptions{GracePeriodSeconds: &zero}, metav1.ListOptions{})
	for _, n := range c.nodes {
		n.Close()
	}
	_ = c.cs.CoreV1().Secrets(c.ns).DeleteCollection(ctx, metav1.DeleteOptions{}, metav1.ListOptions{})
	_ = c.cs.NetworkingV1().NetworkPolicies(c.ns).DeleteCollection(ctx, metav1.DeleteOptions{}, metav1.ListOptions{})
	if svcs, err := c.cs.CoreV1().Services(c.ns).List(ctx, metav1.ListOptions{}); err == nil {
		for _, s := range svcs.Items {
			_ = c.cs.CoreV1().Services(c.ns).Delete(ctx, s.Name, metav1.DeleteOptions{})
		}
	}
	_ = c.cs.CoreV1().Namespaces().Delete(ctx, c.ns, metav1.DeleteOptions{})
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// newRuntime returns a runtime of a scope of its own (so it starts empty)
// whose containers are removed when t ends.
func newRuntime(t *testing.T, c *testCluster, ca *agenttest.CA, scope string, mod func(*kube.Config)) *kube.Runtime {
	t.Helper()
	cfg := kube.Config{REST: c.rest, Namespace: c.ns, Issuer: ca, Scope: scope, StartTimeout: 90 * time.Second, RemoveGrace: 2 * time.Second,
		GPUNodeSelector: map[string]string{gpuNodeLabel: "true"},
		GPUTolerations:  []kube.Toleration{{Key: gpuTaint, Operator: "Exists", Effect: "NoSchedule"}}}
	if mod != nil {
		mod(&cfg)
	}
	rt, err := kube.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := rt.Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		list, _ := rt.List(ctx, nil)
		for _, x := range list {
			_ = rt.Remove(ctx, x.ID)
		}
		rt.Close()
	})
	return rt
}

func newScope() string { return "test-" + randHex(4) }

func specFor(_ *testing.T, name string) runtime.Spec {
	return runtime.Spec{Name: name, Image: testImage, Labels: map[string]string{}}
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func TestConformance(t *testing.T) {
	c := env(t)
	ca := agenttest.NewCA(t)
	runtimetest.Run(t, func(t *testing.T) runtime.Runtime { return newRuntime(t, c, ca, newScope(), nil) }, specFor)
}

// The Pod is hardened (and admitted by the namespace's restricted Pod
// Security Standard), takes its resources from the spec, requests no GPU,
// names the registry's pull secret, and holds no secret in its spec; the
// NetworkPolicy admits only the server to the agent port; the agent takes
// its token and the server's client certificate (mutual TLS).
func TestObjects(t *testing.T) {
	c := env(t)
	ca := agenttest.NewCA(t)
	client := ca.ClientCert(t, "dockyard-server test")
	rt := newRuntime(t, c, ca, newScope(), func(cfg *kube.Config) {
		cfg.ClientCAPEM, cfg.ClientCert = ca.CertPEM, &client
	})
	ctx := ctxT(t)
	if err := rt.PullImage(ctx, testImage, &runtime.RegistryAuth{Server: "registry.dockyard.test:5000", Username: "puller", Password: "s3cret-pull"}); err != nil {
		t.Fatal(err)
	}
	spec := specFor(t, "objects")
	spec.Env = map[string]string{"PLAIN": "visible"}
	spec.Labels[runtime.LabelOwner] = "alice@example.com" // not a valid label value: kept in the annotation
	spec.Labels[runtime.LabelModel] = "M"
	spec.Limits = runtime.Limits{CPUs: 0.5, MemoryBytes: 256 << 20}
	spec.Files = map[string][]byte{"notebooks/hello.py": []byte("x = 1\n")}
	ct, err := rt.Create(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	if err := rt.Start(ctx, ct.ID); err != nil {
		t.Fatal(err)
	}
	ct, err = rt.Inspect(ctx, ct.ID)
	if err != nil || len(ct.Token) != 64 || ct.Labels[runtime.LabelOwner] != "alice@example.com" {
		t.Fatalf("Inspect = %+v, %v; want a 64-hex token and the owner label", ct, err)
	}
	pods, err := c.cs.CoreV1().Pods(c.ns).List(ctx, metav1.ListOptions{LabelSelector: runtime.LabelModel + "=M"})
	if err != nil || len(pods.Items) != 1 {
		t.Fatalf("pods with the model label: %v, %v", pods, err)
	}
	pod := pods.Items[0]
	raw, _ := json.Marshal(pod)
	if strings.Contains(string(raw), ct.Token) || strings.Contains(string(raw), "PRIVATE KEY") || strings.Contains(string(raw), "s3cret-pull") {
		t.Errorf("the Pod's spec holds the token, a key or a registry password:\n%s", raw)
	}
	ps := pod.Spec
	if ps.AutomountServiceAccountToken == nil || *ps.AutomountServiceAccountToken || ps.HostNetwork || ps.HostPID || ps.HostIPC ||
		ps.EnableServiceLinks == nil || *ps.EnableServiceLinks || ps.RestartPolicy != corev1.RestartPolicyNever {
		t.Errorf("pod spec: automount %v, host namespaces %v/%v/%v, service links %v, restart %s",
			ps.AutomountServiceAccountToken, ps.HostNetwork, ps.HostPID, ps.HostIPC, ps.EnableServiceLinks, ps.RestartPolicy)
	}
	psc := ps.SecurityContext
	if psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot || psc.SeccompProfile == nil || psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault ||
		psc.RunAsUser == nil || *psc.RunAsUser != kube.DefaultRunAsUser {
		t.Errorf("pod security context = %+v", psc)
	}
	if len(ps.Containers) != 1 {
		t.Fatalf("containers = %d", len(ps.Containers))
	}
	pc := ps.Containers[0]
	sc := pc.SecurityContext
	if sc == nil || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation || sc.Privileged == nil || *sc.Privileged ||
		sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem || sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot ||
		sc.Capabilities == nil || len(sc.Capabilities.Drop) != 1 || sc.Capabilities.Drop[0] != "ALL" || len(sc.Capabilities.Add) != 0 ||
		sc.SeccompProfile == nil || sc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("container security context = %+v", sc)
	}
	if got := pc.Resources.Limits.Cpu().MilliValue(); got != 500 {
		t.Errorf("cpu limit = %dm, want 500m", got)
	}
	if got := pc.Resources.Limits.Memory().Value(); got != 256<<20 {
		t.Errorf("memory limit = %d, want %d", got, 256<<20)
	}
	if _, ok := pc.Resources.Limits[kube.GPUResource]; ok {
		t.Errorf("a container without GPUs requests %s: %v", kube.GPUResource, pc.Resources.Limits)
	}
	if _, ok := pc.Resources.Requests[kube.GPUResource]; ok {
		t.Errorf("a container without GPUs requests %s: %v", kube.GPUResource, pc.Resources.Requests)
	}
	if len(ps.NodeSelector) != 0 || hasToleration(ps.Tolerations, gpuTaint) {
		t.Errorf("a container without GPUs has GPU node selector %v / tolerations %v", ps.NodeSelector, ps.Tolerations)
	}
	if len(ps.ImagePullSecrets) != 1 {
		t.Fatalf("imagePullSecrets = %v, want the registry's", ps.ImagePullSecrets)
	}
	pull, err := c.cs.CoreV1().Secrets(c.ns).Get(ctx, ps.ImagePullSecrets[0].Name, metav1.GetOptions{})
	if err != nil || pull.Type != corev1.SecretTypeDockerConfigJson || !strings.Contains(string(pull.Data[corev1.DockerConfigJsonKey]), `"registry.dockyard.test:5000"`) ||
		!strings.Contains(string(pull.Data[corev1.DockerConfigJsonKey]), "s3cret-pull") {
		t.Errorf("pull secret = %+v, %v", pull, err)
	}
	envs := map[string]string{}
	for _, e := range pc.Env {
		envs[e.Name] = e.Value
	}
	if envs["PLAIN"] != "visible" || envs["DOCKYARD_CONTAINER"] != "objects" {
		t.Errorf("env = %v", envs)
	}
	// The NetworkPolicy selects the Pod and admits the server's Pods only,
	// to the agent port only.
	np, err := c.cs.NetworkingV1().NetworkPolicies(c.ns).Get(ctx, pod.Name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range np.Spec.PodSelector.MatchLabels {
		if pod.Labels[k] != v {
			t.Errorf("the NetworkPolicy's selector %s=%s does not select the Pod (%v)", k, v, pod.Labels)
		}
	}
	if len(np.Spec.PolicyTypes) != 1 || np.Spec.PolicyTypes[0] != "Ingress" || len(np.Spec.Ingress) != 1 {
		t.Fatalf("network policy = %+v", np.Spec)
	}
	in := np.Spec.Ingress[0]
	if len(in.From) != 1 || in.From[0].PodSelector == nil || in.From[0].PodSelector.MatchLabels["app.kubernetes.io/name"] != "dockyard" || in.From[0].IPBlock != nil ||
		len(in.Ports) != 1 || in.Ports[0].Port.IntValue() != kube.AgentPort {
		t.Errorf("ingress = %+v, want from the server's Pods to port %d only", in, kube.AgentPort)
	}
	// The agent: its token, the server's client certificate, its files.
	cl := agentclient.New(ct.Endpoint, ct.Token, ca.MutualClient(client))
	if nb, err := cl.GetNotebook(ctx, "hello.py"); err != nil || string(nb) != "x = 1\n" {
		t.Errorf("notebook hello.py = %q, %v", nb, err)
	}
	if _, err := agentclient.New(ct.Endpoint, "wrong", ca.MutualClient(client)).ModelFiles(ctx); !errdefs.IsUnauthenticated(err) {
		t.Errorf("agent with a wrong token: %v, want unauthenticated", err)
	}
	if _, err := agentclient.New(ct.Endpoint, ct.Token, ca.Client()).ModelFiles(ctx); err == nil {
		t.Errorf("the agent answered a client without the server's certificate")
	}
}

// GPUs: a spec's GPUs become limits nvidia.com/gpu on a GPU node chosen
// by the configured selector and tolerations; the inventory reports the
// GPU node's allocatable GPUs; a request beyond them is not scheduled and
// Start says why.
func TestGPUs(t *testing.T) {
	c := env(t)
	ca := agenttest.NewCA(t)
	rt := newRuntime(t, c, ca, newScope(), func(cfg *kube.Config) { cfg.StartTimeout = 20 * time.Second })
	ctx := ctxT(t)
	pools, err := rt.GPUs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(pools) != 1 || pools[0].Node != c.ns+"-gpu" || pools[0].Allocatable != 2 || pools[0].Capacity != 2 ||
		pools[0].Resource != "nvidia.com/gpu" || pools[0].Runtime != "kubernetes" {
		t.Fatalf("GPUs = %+v, want the GPU node with 2", pools)
	}
	spec := specFor(t, "gpu")
	spec.GPUs = 1
	ct, err := rt.Create(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	if err := rt.Start(ctx, ct.ID); err != nil {
		t.Fatal(err)
	}
	pod := podOf(t, c, rt, ct.ID)
	if pod.Spec.NodeName != c.ns+"-gpu" {
		t.Errorf("the GPU Pod runs on %q, want the GPU node", pod.Spec.NodeName)
	}
	lim := pod.Spec.Containers[0].Resources.Limits[kube.GPUResource]
	if lim.Value() != 1 {
		t.Errorf("limits %s = %v, want 1", kube.GPUResource, lim.String())
	}
	if pod.Spec.NodeSelector[gpuNodeLabel] != "true" || !hasToleration(pod.Spec.Tolerations, gpuTaint) {
		t.Errorf("node selector %v, tolerations %v", pod.Spec.NodeSelector, pod.Spec.Tolerations)
	}

	spec = specFor(t, "gpu-toomany")
	spec.GPUs = 2 // one of two is taken
	ct2, err := rt.Create(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	err = rt.Start(ctx, ct2.ID)
	if !errdefs.IsUnavailable(err) || !strings.Contains(err.Error(), "Insufficient nvidia.com/gpu") {
		t.Errorf("Start beyond the free GPUs = %v, want unavailable saying the GPUs are insufficient", err)
	}
}

// hasToleration reports whether tols tolerate key (the API server adds
// tolerations of its own: not-ready, unreachable).
func hasToleration(tols []corev1.Toleration, key string) bool {
	for _, t := range tols {
		if t.Key == key {
			return true
		}
	}
	return false
}

func podOf(t *testing.T, c *testCluster, rt *kube.Runtime, id string) *corev1.Pod {
	t.Helper()
	name, _, _ := strings.Cut(id, "-")
	pod, err := c.cs.CoreV1().Pods(c.ns).Get(context.Background(), "dockyard-"+name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return pod
}

// A fresh Runtime over the same namespace and scope (a restarted server)
// adopts the running container with its token; another scope does not see
// it; stopped, its logs stay readable; restarted, it answers again.
func TestAdoptionAndLogs(t *testing.T) {
	c := env(t)
	ca := agenttest.NewCA(t)
	scope := newScope()
	rt := newRuntime(t, c, ca, scope, nil)
	ctx := ctxT(t)
	spec := specFor(t, "adopt")
	spec.Labels[runtime.LabelOwner] = "bob"
	ct, err := rt.Create(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	if err := rt.Start(ctx, ct.ID); err != nil {
		t.Fatal(err)
	}
	ct, _ = rt.Inspect(ctx, ct.ID)
	rt2 := newRuntime(t, c, ca, scope, nil)
	list, err := rt2.List(ctx, map[string]string{runtime.LabelOwner: "bob"})
	if err != nil || len(list) != 1 {
		t.Fatalf("List by the new runtime = %+v, %v", list, err)
	}
	got := list[0]
	if got.ID != ct.ID || got.State != runtime.StateRunning || got.Endpoint != ct.Endpoint || got.Token != ct.Token {
		t.Fatalf("adopted %+v, want %s running at %s", got, ct.ID, ct.Endpoint)
	}
	if _, err := agentclient.New(got.Endpoint, got.Token, ca.Client()).ModelFiles(ctx); err != nil {
		t.Errorf("the adopted agent: %v", err)
	}
	if other, err := newRuntime(t, c, ca, newScope(), nil).Inspect(ctx, ct.ID); !errdefs.IsNotFound(err) {
		t.Errorf("a runtime of another scope sees the container: %+v, %v", other, err)
	}
	if err := rt2.Stop(ctx, ct.ID, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if got, _ := rt2.Inspect(ctx, ct.ID); got.State != runtime.StateExited || got.Endpoint != "" {
		t.Errorf("after Stop: %+v, want exited without an endpoint", got)
	}
	runtimetest.CheckAgentLogs(t, rt2, ct)
	if err := rt2.Start(ctx, ct.ID); err != nil {
		t.Fatal(err)
	}
	got, _ = rt2.Inspect(ctx, ct.ID)
	if _, err := agentclient.New(got.Endpoint, got.Token, ca.Client()).ModelFiles(ctx); err != nil || got.Endpoint != ct.Endpoint {
		t.Errorf("after restart at %s (was %s): %v", got.Endpoint, ct.Endpoint, err)
	}
}

// StartWithEnv's environment reaches the agent through a Secret that is
// gone once the agent answers (or fails to), and is never in the Pod's
// spec; the HEC CA file is copied into the container's Secret.
func TestStartEnv(t *testing.T) {
	c := env(t)
	ca := agenttest.NewCA(t)
	rt := newRuntime(t, c, ca, newScope(), func(cfg *kube.Config) { cfg.StartTimeout = 30 * time.Second })
	ctx := ctxT(t)
	ct, err := rt.Create(ctx, specFor(t, "startenv"))
	if err != nil {
		t.Fatal(err)
	}
	const python = "/no/such/python-from-the-start-env"
	const secret = "hec-secret-5d2e"
	caFile := filepath.Join(t.TempDir(), "hec-ca.pem")
	caPEM := []byte("-----BEGIN CERTIFICATE-----\nMIIBdummy\n-----END CERTIFICATE-----\n")
	if err := os.WriteFile(caFile, caPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := rt.StartWithEnv(ctx, ct.ID, map[string]string{"DOCKYARD_AGENT_PYTHON": python, "DOCKYARD_HEC_TOKEN": secret, "DOCKYARD_HEC_CA_FILE": caFile}); err != nil {
		t.Fatal(err)
	}
	ct, _ = rt.Inspect(ctx, ct.ID)
	info, err := agentclient.New(ct.Endpoint, ct.Token, ca.Client()).Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(info.RunnerError, python) {
		t.Errorf("/v1/info runner_error = %q, want the start environment's interpreter %s", info.RunnerError, python)
	}
	pod := podOf(t, c, rt, ct.ID)
	raw, _ := json.Marshal(pod)
	if strings.Contains(string(raw), python) || strings.Contains(string(raw), secret) {
		t.Errorf("the start environment is in the Pod's spec")
	}
	if _, err := c.cs.CoreV1().Secrets(c.ns).Get(ctx, pod.Name+"-env", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("the start environment's Secret outlived the start: %v", err)
	}
	sec, err := c.cs.CoreV1().Secrets(c.ns).Get(ctx, pod.Name, metav1.GetOptions{})
	if err != nil || string(sec.Data["hec-ca.pem"]) != string(caPEM) {
		t.Errorf("the HEC CA in the container's Secret = %q, %v", sec.Data["hec-ca.pem"], err)
	}

	// An agent that exits at once: the Secret goes all the same.
	spec := specFor(t, "startenv-fail")
	spec.Args = []string{"--no-such-flag"}
	ct2, err := rt.Create(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	if err := rt.StartWithEnv(ctx, ct2.ID, map[string]string{"DOCKYARD_HEC_TOKEN": secret}); err == nil {
		t.Fatal("StartWithEnv of an agent that exits = nil")
	}
	pod = podOf(t, c, rt, ct2.ID)
	if _, err := c.cs.CoreV1().Secrets(c.ns).Get(ctx, pod.Name+"-env", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("after a failed start the start environment's Secret is still there: %v", err)
	}
}

func TestStartFailure(t *testing.T) {
	c := env(t)
	rt := newRuntime(t, c, agenttest.NewCA(t), newScope(), func(cfg *kube.Config) { cfg.StartTimeout = 20 * time.Second })
	ctx := ctxT(t)
	spec := specFor(t, "fail-exits")
	spec.Args = []string{"--no-such-flag"}
	ct, err := rt.Create(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	err = rt.Start(ctx, ct.ID)
	if !errdefs.IsUnavailable(err) || !strings.Contains(err.Error(), "exited with code") || !strings.Contains(err.Error(), "no-such-flag") {
		t.Errorf("Start = %v, want unavailable saying the agent exited, with its output", err)
	}
	if got, _ := rt.Inspect(ctx, ct.ID); got.State == runtime.StateRunning {
		t.Errorf("after a failed Start the container runs")
	}
}

func TestCreateErrors(t *testing.T) {
	c := env(t)
	rt := newRuntime(t, c, agenttest.NewCA(t), newScope(), nil)
	ctx := ctxT(t)
	spec := specFor(t, "noimage")
	spec.Image = ""
	if _, err := rt.Create(ctx, spec); !errdefs.IsInvalid(err) {
		t.Errorf("Create without an image = %v, want invalid", err)
	}
	spec = specFor(t, "bigfiles")
	spec.Files = map[string][]byte{"app/model/data/big": make([]byte, 600<<10)}
	if _, err := rt.Create(ctx, spec); !errdefs.IsInvalid(err) {
		t.Errorf("Create with 600 KiB of files = %v, want invalid", err)
	}
	spec = specFor(t, "operatorcert")
	spec.AgentCert = &runtime.KeyPair{CertPEM: []byte("cert"), KeyPEM: []byte("key")}
	if _, err := rt.Create(ctx, spec); !errdefs.IsInvalid(err) || !strings.Contains(err.Error(), "operator certificates") {
		t.Errorf("Create with an operator certificate = %v, want invalid naming operator certificates", err)
	}
}

func TestUnreachableAPIServer(t *testing.T) {
	rt, err := kube.New(kube.Config{REST: &rest.Config{Host: "https://127.0.0.1:1"}, Issuer: agenttest.NewCA(t)})
	if err != nil {
		t.Fatal(err)
	}
	ctx := ctxT(t)
	if err := rt.Ping(ctx); !errdefs.IsUnavailable(err) {
		t.Errorf("Ping = %v, want unavailable", err)
	}
	if _, err := rt.List(ctx, nil); !errdefs.IsUnavailable(err) {
		t.Errorf("List = %v, want unavailable", err)
	}
}

// With the UID left to the platform (OpenShift's restricted SCC assigns
// one), the Pod names no UID, GID or fsGroup and still says runAsNonRoot
// (the restricted Pod Security Standard admits it); a server in another
// namespace or outside the cluster is admitted by namespace and address.
func TestPlatformUserAndServerPeers(t *testing.T) {
	c := env(t)
	rt := newRuntime(t, c, agenttest.NewCA(t), newScope(), func(cfg *kube.Config) {
		cfg.PlatformUser = true
		cfg.ServerPodLabels = map[string]string{"app.kubernetes.io/name": "dockyard"}
		cfg.ServerNamespace = "dockyard-system"
		cfg.ServerCIDRs = []string{"10.1.2.3/32"}
	})
	ctx := ctxT(t)
	ct, err := rt.Create(ctx, specFor(t, "platform-user"))
	if err != nil {
		t.Fatal(err)
	}
	if err := rt.Start(ctx, ct.ID); err != nil {
		t.Fatal(err)
	}
	pod := podOf(t, c, rt, ct.ID)
	psc, sc := pod.Spec.SecurityContext, pod.Spec.Containers[0].SecurityContext
	if psc.RunAsUser != nil || psc.RunAsGroup != nil || psc.FSGroup != nil || sc.RunAsUser != nil || sc.RunAsGroup != nil {
		t.Errorf("the Pod names a UID, GID or fsGroup: pod %+v, container %+v", psc, sc)
	}
	if psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot || sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot {
		t.Errorf("runAsNonRoot is not set: pod %+v, container %+v", psc, sc)
	}
	np, err := c.cs.NetworkingV1().NetworkPolicies(c.ns).Get(ctx, pod.Name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	from := np.Spec.Ingress[0].From
	if len(from) != 2 || from[0].NamespaceSelector == nil || from[0].NamespaceSelector.MatchLabels["kubernetes.io/metadata.name"] != "dockyard-system" ||
		from[0].PodSelector == nil || from[1].IPBlock == nil || from[1].IPBlock.CIDR != "10.1.2.3/32" {
		t.Errorf("ingress from = %+v, want the server's Pods in dockyard-system and 10.1.2.3/32", from)
	}
}

// With AgentRootSize the agent root is a PersistentVolumeClaim of the
// container: a notebook written by the agent survives a stop and start,
// and the claim goes with the container.
func TestAgentRootClaim(t *testing.T) {
	c := env(t)
	ca := agenttest.NewCA(t)
	rt := newRuntime(t, c, ca, newScope(), func(cfg *kube.Config) { cfg.AgentRootSize = "2Gi"; cfg.StorageClass = "fast" })
	ctx := ctxT(t)
	ct, err := rt.Create(ctx, specFor(t, "claim"))
	if err != nil {
		t.Fatal(err)
	}
	name := "dockyard-" + strings.SplitN(ct.ID, "-", 2)[0]
	pvc, err := c.cs.CoreV1().PersistentVolumeClaims(c.ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if q := pvc.Spec.Resources.Requests[corev1.ResourceStorage]; q.String() != "2Gi" || pvc.Spec.StorageClassName == nil || *pvc.Spec.StorageClassName != "fast" {
		t.Errorf("claim = %+v", pvc.Spec)
	}
	if err := rt.Start(ctx, ct.ID); err != nil {
		t.Fatal(err)
	}
	ct, _ = rt.Inspect(ctx, ct.ID)
	if _, err := agentclient.New(ct.Endpoint, ct.Token, ca.Client()).PutNotebook(ctx, "kept.py", []byte("k = 1\n")); err != nil {
		t.Fatal(err)
	}
	if err := rt.Stop(ctx, ct.ID, time.Second); err != nil {
		t.Fatal(err)
	}
	if err := rt.Start(ctx, ct.ID); err != nil {
		t.Fatal(err)
	}
	ct, _ = rt.Inspect(ctx, ct.ID)
	if nb, err := agentclient.New(ct.Endpoint, ct.Token, ca.Client()).GetNotebook(ctx, "kept.py"); err != nil || string(nb) != "k = 1\n" {
		t.Errorf("the notebook after a restart = %q, %v; want it kept", nb, err)
	}
	if v := podOf(t, c, rt, ct.ID).Spec.Volumes[0]; v.PersistentVolumeClaim == nil || v.PersistentVolumeClaim.ClaimName != name {
		t.Errorf("the agent root volume = %+v, want the claim", v)
	}
	if err := rt.Remove(ctx, ct.ID); err != nil {
		t.Fatal(err)
	}
	// The claim is deleted (its pvc-protection finalizer is the controller
	// manager's to lift, which this test cluster does not run).
	if left, err := c.cs.CoreV1().PersistentVolumeClaims(c.ns).Get(ctx, name, metav1.GetOptions{}); !apierrors.IsNotFound(err) && (err != nil || left.DeletionTimestamp == nil) {
		t.Errorf("the claim outlived its container: %v", err)
	}
}
