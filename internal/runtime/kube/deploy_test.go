package kube_test

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"sigs.k8s.io/yaml"

	"github.com/dockyard/dockyard/internal/agent/agenttest"
	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/runtime"
	"github.com/dockyard/dockyard/internal/runtime/kube"
	"github.com/dockyard/dockyard/internal/runtime/kube/kubenode"
)

const deployDir = "../../../deploy/kubernetes"

// manifests reads the resources kustomization.yaml lists, setting the
// namespace as kustomize's namespace transformer does (namespaced
// objects, the Namespace itself, ServiceAccount subjects of bindings) and
// suffixing cluster-scoped names (as a namePrefix would), so that test runs
// do not meet.
func manifests(t *testing.T, ns string) []*unstructured.Unstructured {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(deployDir, "kustomization.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var k struct {
		Resources []string `json:"resources"`
	}
	if err := yaml.Unmarshal(b, &k); err != nil {
		t.Fatal(err)
	}
	var out []*unstructured.Unstructured
	for _, f := range k.Resources {
		b, err := os.ReadFile(filepath.Join(deployDir, f))
		if err != nil {
			t.Fatal(err)
		}
		for _, doc := range regexp.MustCompile(`(?m)^---\s*$`).Split(string(b), -1) {
			if strings.TrimSpace(doc) == "" {
				continue
			}
			js, err := yaml.YAMLToJSON([]byte(doc))
			if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			u := &unstructured.Unstructured{}
			if err := u.UnmarshalJSON(js); err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			switch u.GetKind() {
			case "Namespace":
				u.SetName(ns)
			case "ClusterRole":
				u.SetName(u.GetName() + "-" + ns)
			case "ClusterRoleBinding":
				u.SetName(u.GetName() + "-" + ns)
				_ = unstructured.SetNestedField(u.Object, u.Object["roleRef"].(map[string]any)["name"].(string)+"-"+ns, "roleRef", "name")
			default:
				u.SetNamespace(ns)
			}
			if subs, ok := u.Object["subjects"].([]any); ok {
				for _, s := range subs {
					if m := s.(map[string]any); m["kind"] == "ServiceAccount" {
						m["namespace"] = ns
					}
				}
			}
			out = append(out, u)
		}
	}
	return out
}

// apply applies objs server-side.
func apply(t *testing.T, rc *rest.Config, objs []*unstructured.Unstructured) {
	t.Helper()
	ctx := ctxT(t)
	dc, err := discovery.NewDiscoveryClientForConfig(rc)
	if err != nil {
		t.Fatal(err)
	}
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(dc))
	dyn, err := dynamic.NewForConfig(rc)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range objs {
		gvk := u.GroupVersionKind()
		m, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
		if err != nil {
			t.Fatalf("%s %s: %v", gvk.Kind, u.GetName(), err)
		}
		var ri dynamic.ResourceInterface = dyn.Resource(m.Resource)
		if u.GetNamespace() != "" {
			ri = dyn.Resource(m.Resource).Namespace(u.GetNamespace())
		}
		if _, err := ri.Apply(ctx, u.GetName(), u, metav1.ApplyOptions{FieldManager: "dockyard-test", Force: true}); err != nil {
			t.Fatalf("server-side apply of %s %s: %v", gvk.Kind, u.GetName(), err)
		}
	}
}

// recorder records the resource and verb of every request to the API.
type recorder struct {
	mu    sync.Mutex
	calls map[string]bool // "group/resource:verb"
	next  http.RoundTripper
}

var pathRE = regexp.MustCompile(`^/(?:api/v1|apis/([^/]+)/[^/]+)(?:/namespaces/[^/]+)?/([^/]+)(?:/([^/]+)(?:/([^/]+))?)?$`)

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	if m := pathRE.FindStringSubmatch(req.URL.Path); m != nil && m[2] != "namespaces" {
		res := m[2]
		if m[4] != "" {
			res += "/" + m[4]
		}
		verb := map[string]string{http.MethodPost: "create", http.MethodPut: "update", http.MethodPatch: "patch", http.MethodDelete: "delete"}[req.Method]
		if req.Method == http.MethodGet {
			verb = "list"
			if m[3] != "" {
				verb = "get"
			}
			if req.URL.Query().Get("watch") == "true" {
				verb = "watch"
			}
		}
		r.mu.Lock()
		r.calls[m[1]+"/"+res+":"+verb] = true
		r.mu.Unlock()
	}
	return r.next.RoundTrip(req)
}

func (r *recorder) list() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for k := range r.calls {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// granted is what the Role and ClusterRole of the manifests grant.
func granted(t *testing.T, objs []*unstructured.Unstructured) []string {
	var out []string
	for _, u := range objs {
		if u.GetKind() != "Role" && u.GetKind() != "ClusterRole" {
			continue
		}
		js, _ := u.MarshalJSON()
		var role rbacv1.Role
		if err := yaml.Unmarshal(js, &role); err != nil {
			t.Fatal(err)
		}
		for _, rule := range role.Rules {
			for _, g := range rule.APIGroups {
				for _, res := range rule.Resources {
					for _, v := range rule.Verbs {
						out = append(out, g+"/"+res+":"+v)
					}
				}
			}
		}
	}
	sort.Strings(out)
	return out
}

// The manifests apply to the API server (server-side apply), and the
// runtime's RBAC is exactly what it needs: a whole container lifecycle as
// the manifests' ServiceAccount makes exactly the calls its Role and
// ClusterRole grant, and calls outside them are forbidden.
func TestDeployManifestsAndRBAC(t *testing.T) {
	c := env(t)
	ctx := ctxT(t)
	ns := "dockyard-deploy-" + randHex(4)
	objs := manifests(t, ns)
	apply(t, c.rest, objs)
	t.Cleanup(func() {
		ctx := context.Background()
		zero := int64(0)
		_ = c.cs.CoreV1().Pods(ns).DeleteCollection(ctx, metav1.DeleteOptions{GracePeriodSeconds: &zero}, metav1.ListOptions{})
		_ = c.cs.RbacV1().ClusterRoles().Delete(ctx, "dockyard-gpu-inventory-"+ns, metav1.DeleteOptions{})
		_ = c.cs.RbacV1().ClusterRoleBindings().Delete(ctx, "dockyard-gpu-inventory-"+ns, metav1.DeleteOptions{})
		_ = c.cs.CoreV1().Namespaces().Delete(ctx, ns, metav1.DeleteOptions{})
	})
	dep, err := c.cs.AppsV1().Deployments(ns).Get(ctx, "dockyard", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("the Deployment: %v", err)
	}
	if dep.Spec.Template.Spec.ServiceAccountName != "dockyard" || dep.Spec.Template.Labels["app.kubernetes.io/name"] != "dockyard" {
		t.Errorf("deployment: service account %q, labels %v", dep.Spec.Template.Spec.ServiceAccountName, dep.Spec.Template.Labels)
	}
	for _, check := range []func() error{
		func() error {
			_, err := c.cs.CoreV1().Services(ns).Get(ctx, "dockyard", metav1.GetOptions{})
			return err
		},
		func() error {
			_, err := c.cs.CoreV1().PersistentVolumeClaims(ns).Get(ctx, "dockyard-data", metav1.GetOptions{})
			return err
		},
		func() error {
			_, err := c.cs.CoreV1().Secrets(ns).Get(ctx, "dockyard", metav1.GetOptions{})
			return err
		},
	} {
		if err := check(); err != nil {
			t.Error(err)
		}
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	node, err := kubenode.Start(c.cs, kubenode.Options{Name: ns + "-node", Namespace: ns, Executable: exe,
		Env: []string{"DOCKYARD_TEST_AGENT=1", "PATH=" + os.Getenv("PATH")}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(node.Close)

	// The runtime as the ServiceAccount, every call recorded.
	sa := rest.CopyConfig(c.rest)
	sa.Impersonate = rest.ImpersonationConfig{UserName: "system:serviceaccount:" + ns + ":dockyard"}
	rec := &recorder{calls: map[string]bool{}}
	sa.WrapTransport = func(rt http.RoundTripper) http.RoundTripper { rec.next = rt; return rec }
	ca := agenttest.NewCA(t)
	rt, err := kube.New(kube.Config{REST: sa, Namespace: ns, Issuer: ca, Scope: "rbac", StartTimeout: 90 * time.Second, RemoveGrace: 2 * time.Second,
		AgentRootSize: "1Gi"})
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close()
	if err := rt.Ping(ctx); err != nil {
		t.Fatalf("Ping as the ServiceAccount: %v", err)
	}
	if _, err := rt.GPUs(ctx); err != nil {
		t.Fatalf("GPUs as the ServiceAccount: %v", err)
	}
	if err := rt.PullImage(ctx, testImage, &runtime.RegistryAuth{Username: "u", Password: "p"}); err != nil {
		t.Fatal(err)
	}
	if err := rt.PullImage(ctx, testImage, &runtime.RegistryAuth{Username: "u", Password: "p2"}); err != nil {
		t.Fatal(err)
	}
	spec := specFor(t, "rbac")
	spec.Files = map[string][]byte{"notebooks/a.py": []byte("a = 1\n")}
	ct, err := rt.Create(ctx, spec)
	if err != nil {
		t.Fatalf("Create as the ServiceAccount: %v", err)
	}
	if err := rt.StartWithEnv(ctx, ct.ID, map[string]string{"X": "1"}); err != nil {
		t.Fatalf("Start as the ServiceAccount: %v", err)
	}
	if _, err := rt.List(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if err := rt.Stop(ctx, ct.ID, time.Second); err != nil {
		t.Fatal(err)
	}
	rc, err := rt.Logs(ctx, ct.ID, time.Time{})
	if err != nil {
		t.Fatalf("Logs as the ServiceAccount: %v", err)
	}
	logs, _ := readAll(rc)
	if !bytes.Contains(logs, []byte("agent listening")) {
		t.Errorf("logs through pods/log = %q", logs)
	}
	if err := rt.Start(ctx, ct.ID); err != nil {
		t.Fatal(err)
	}
	if err := rt.Remove(ctx, ct.ID); err != nil {
		t.Fatal(err)
	}
	if err := rt.PullImage(ctx, testImage, nil); err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(rec.list(), " "), strings.Join(granted(t, objs), " "); got != want {
		t.Errorf("the runtime's calls and its RBAC differ:\ncalls:   %s\ngranted: %s", got, want)
	}

	// Outside its rules the ServiceAccount is refused.
	cs, err := kubernetes.NewForConfig(sa)
	if err != nil {
		t.Fatal(err)
	}
	for what, err := range map[string]error{
		"list secrets of another namespace": err1(cs.CoreV1().Secrets(c.ns).List(ctx, metav1.ListOptions{})),
		"list pods of every namespace":      err1(cs.CoreV1().Pods("").List(ctx, metav1.ListOptions{})),
		"read a ConfigMap":                  err1(cs.CoreV1().ConfigMaps(ns).Get(ctx, "kube-root-ca.crt", metav1.GetOptions{})),
		"create a Role (escalate)": err1(cs.RbacV1().Roles(ns).Create(ctx, &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "x"},
			Rules: []rbacv1.PolicyRule{{APIGroups: []string{"*"}, Resources: []string{"*"}, Verbs: []string{"*"}}}}, metav1.CreateOptions{})),
		"update a NetworkPolicy": err1(cs.NetworkingV1().NetworkPolicies(ns).Update(ctx, rt2np(ns), metav1.UpdateOptions{})),
		"get a node":             err1(cs.CoreV1().Nodes().Get(ctx, ns+"-node", metav1.GetOptions{})),
		"delete a node":          cs.CoreV1().Nodes().Delete(ctx, ns+"-node", metav1.DeleteOptions{}),
		"exec into a Pod": cs.CoreV1().RESTClient().Post().Namespace(ns).Resource("pods").Name("dockyard").SubResource("exec").
			Do(ctx).Error(),
		"create a Deployment":             err1(cs.AppsV1().Deployments(ns).Create(ctx, dep, metav1.CreateOptions{})),
		"read the ServiceAccount's token": err1(cs.CoreV1().ServiceAccounts(ns).CreateToken(ctx, "dockyard", &authenticationv1.TokenRequest{}, metav1.CreateOptions{})),
	} {
		if !apierrors.IsForbidden(err) {
			t.Errorf("%s as the ServiceAccount: %v, want forbidden", what, err)
		}
	}
}

func err1[T any](_ T, err error) error { return err }

func rt2np(ns string) *networkingv1.NetworkPolicy {
	return &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Name: "x", Namespace: ns}}
}

func readAll(rc interface {
	Read([]byte) (int, error)
	Close() error
}) ([]byte, error) {
	defer rc.Close()
	var buf bytes.Buffer
	_, err := buf.ReadFrom(rc)
	return buf.Bytes(), err
}

// An identity without the runtime's RBAC is told so, with what to grant.
func TestWithoutRBAC(t *testing.T) {
	c := env(t)
	ctx := ctxT(t)
	nobody := rest.CopyConfig(c.rest)
	nobody.Impersonate = rest.ImpersonationConfig{UserName: "system:serviceaccount:" + c.ns + ":nobody"}
	rt, err := kube.New(kube.Config{REST: nobody, Namespace: c.ns, Issuer: agenttest.NewCA(t), Scope: "nobody"})
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close()
	err = rt.Ping(ctx)
	if !errdefs.IsPermissionDenied(err) || !strings.Contains(err.Error(), "deploy/kubernetes/rbac.yaml") {
		t.Errorf("Ping without RBAC = %v, want permission denied naming deploy/kubernetes/rbac.yaml", err)
	}
	if _, err := rt.Create(ctx, specFor(t, "nobody")); !errdefs.IsPermissionDenied(err) {
		t.Errorf("Create without RBAC = %v, want permission denied", err)
	}
}
