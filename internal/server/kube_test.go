package server_test

import (
	"context"
	"math"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/dockyard/dockyard/internal/access"
	"github.com/dockyard/dockyard/internal/config"
	"github.com/dockyard/dockyard/internal/images"
	"github.com/dockyard/dockyard/internal/runtime"
	"github.com/dockyard/dockyard/internal/runtime/kube/kubenode"
	"github.com/dockyard/dockyard/internal/server/servertest"
	"github.com/dockyard/dockyard/internal/store"
)

// kubeCluster gives a test a namespace of its own (enforcing the restricted
// Pod Security Standard) on the API server of DOCKYARD_TEST_KUBECONFIG,
// with a test node that runs each Pod's agent as this test binary
// (DOCKYARD_TEST_MAIN=1); it skips without the variable (.ci/kube.sh).
func kubeCluster(t *testing.T) (kubeconfig, ns string, cs kubernetes.Interface) {
	t.Helper()
	kubeconfig = os.Getenv("DOCKYARD_TEST_KUBECONFIG")
	if kubeconfig == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("DOCKYARD_TEST_KUBECONFIG is not set in CI: .ci/run starts an API server with .ci/kube.sh")
		}
		t.Skip("DOCKYARD_TEST_KUBECONFIG is not set: start an API server with `eval \"$(bash .ci/kube.sh)\"`")
	}
	rc, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	cs, err = kubernetes.NewForConfig(rc)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	ns = "dockyard-server-" + strings.ToLower(strings.ReplaceAll(time.Now().Format("150405.000000"), ".", ""))
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns, Labels: map[string]string{
		"pod-security.kubernetes.io/enforce": "restricted", "pod-security.kubernetes.io/enforce-version": "latest",
	}}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	node, err := kubenode.Start(cs, kubenode.Options{Name: ns + "-node", Namespace: ns, Executable: exe,
		Env: []string{"DOCKYARD_TEST_MAIN=1", "PATH=" + os.Getenv("PATH")}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		zero := int64(0)
		_ = cs.CoreV1().Pods(ns).DeleteCollection(context.Background(), metav1.DeleteOptions{GracePeriodSeconds: &zero}, metav1.ListOptions{})
		node.Close()
		_ = cs.CoreV1().Namespaces().Delete(context.Background(), ns, metav1.DeleteOptions{})
	})
	return kubeconfig, ns, cs
}

// kubeDigest is what the test catalogue entry kube-agent is pinned to.
const kubeDigest = "sha256:1111111111111111111111111111111111111111111111111111111111111111"

// kubeServer starts a server with cfg whose containers run on the
// kubernetes runtime in a fresh namespace of the test cluster, with the
// default image kube-agent. A kubernetes entry pins a registry image; the
// test node runs this test binary whatever the image, so the entry is
// stored as a pin would store it, without a registry to resolve it.
func kubeServer(t *testing.T, cfg config.Config) (*servertest.Harness, string, kubernetes.Interface) {
	t.Helper()
	kubeconfig, ns, cs := kubeCluster(t)
	cfg.Containers.Runtime = "kubernetes"
	cfg.Containers.DefaultImage = "kube-agent"
	cfg.Containers.Kubernetes.Kubeconfig = kubeconfig
	cfg.Containers.Kubernetes.Namespace = ns
	h := servertest.StartConfig(t, cfg)
	now := time.Now().UTC()
	if err := h.Srv.Store().CreateImage(context.Background(), store.Image{Name: "kube-agent", Ref: "registry.dockyard.test/dockyard/agent:1",
		Digest: kubeDigest, RunRef: "registry.dockyard.test/dockyard/agent@" + kubeDigest, Source: images.SourceRegistry,
		Runtime: images.RuntimeKubernetes, CreatedBy: "test", Created: now, UpdatedBy: "test", Updated: now}); err != nil {
		t.Fatal(err)
	}
	return h, ns, cs
}

// TestFitApplyOnKubernetes trains and applies the example linear
// regression through a server whose containers run on the kubernetes
// runtime: the dev container is a Pod (run by the test node) reached over
// mutual TLS through its Service.
func TestFitApplyOnKubernetes(t *testing.T) {
	needPython(t)
	ctx := context.Background()
	h, ns, cs := kubeServer(t, servertest.Config(t.TempDir()))
	alice := h.User("alice", access.RoleContainerUser, access.RolePower)
	nb, err := os.ReadFile("../../examples/notebooks/linear_regression.ipynb")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := alice.PushNotebook(ctx, "linreg", "ipynb", "", nb); err != nil {
		t.Fatal(err)
	}
	for name, body := range map[string]string{"d1.csv": linearCSV(2, 1, 20), "x.csv": "x\n10\n100\n"} {
		if _, err := alice.UploadLookup(ctx, name, strings.NewReader(body)); err != nil {
			t.Fatal(err)
		}
	}
	res := mlSearch(t, alice, "| inputlookup d1.csv | fit MLTKContainer algo=linreg epochs=3 y from x into app:KubeModel")
	if len(res.Results) != 21 {
		t.Fatalf("fit returned %d rows, want 21: %v (messages %q)", len(res.Results), res.Results, res.Messages)
	}
	if got := num(t, res.Results[4], "predicted_y"); math.Abs(got-11) > 1e-6 {
		t.Errorf("predicted_y for x=5 = %v, want 11", got)
	}
	if !hasMessage(res.Messages, "registered app:KubeModel version 1") {
		t.Errorf("no registration message: %q", res.Messages)
	}
	sum := kvOf(mlSearch(t, alice, "| summary app:KubeModel"))
	if sum["runtime"] != "kubernetes" || sum["image_digest"] != kubeDigest {
		t.Errorf("summary runtime %q image_digest %q, want kubernetes and %s", sum["runtime"], sum["image_digest"], kubeDigest)
	}
	app := mlSearch(t, alice, "| inputlookup x.csv | apply app:KubeModel")
	if got := num(t, app.Results[1], "predicted_y"); math.Abs(got-201) > 1e-6 {
		t.Errorf("apply at x=100 = %v, want 201", got)
	}
	// The dev container is a Pod of this server in the namespace.
	pods, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: runtime.LabelOwner + "=alice," + runtime.LabelServerID + "=" + h.Srv.ID()})
	if err != nil || len(pods.Items) != 1 || pods.Items[0].Status.Phase != corev1.PodRunning {
		t.Fatalf("alice's Pods = %v, %v; want one running", pods, err)
	}
	if img := pods.Items[0].Spec.Containers[0].Image; img != "registry.dockyard.test/dockyard/agent@"+kubeDigest {
		t.Errorf("the Pod runs %q, want the pinned reference", img)
	}
}

// TestJupyterOnKubernetes opens the Jupyter of a development container
// that is a Pod: the agent runs Debian's Notebook beside itself there, the
// server proxies it through the Pod's Service over mutual TLS, a notebook
// saved through the proxy becomes a notebook version, and a cell runs in a
// kernel over the proxied WebSocket.
func TestJupyterOnKubernetes(t *testing.T) {
	needJupyter(t)
	cfg := jupyterConfig(t)
	cfg.Containers.SyncWatchScan = time.Second
	h, _, _ := kubeServer(t, cfg)
	alice, tok, hc, base := openDevJupyter(t, h, "alice")
	if out := saveAndRun(t, h, hc, tok, base, "kubenb", "print(6 * 7)"); strings.TrimSpace(out) != "42" {
		t.Errorf("the cell printed %q, want 42", out)
	}
	if vs := waitVersion(t, alice, "kubenb", 1); vs[0].Author != "alice" {
		t.Errorf("history = %+v", vs)
	}
	// Another user's request is refused at the proxy as if nothing were there.
	_, bobTok := jupyterUser(t, h, "bob", access.RoleContainerUser)
	if code, _ := jupyterDo(t, h, hc, bobTok, "GET", base+"api/contents", nil, nil); code != http.StatusNotFound {
		t.Errorf("bob at alice's Jupyter: %d, want 404", code)
	}
}
