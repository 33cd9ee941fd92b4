package kube

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/runtime"
)

// storedSpec is what of a spec the Pod is made from at each start
// (AnnotationSpec on the Secret).
type storedSpec struct {
	Name   string            `json:"name"`
	Image  string            `json:"image"`
	Args   []string          `json:"args,omitempty"`
	Env    map[string]string `json:"env,omitempty"`
	Limits runtime.Limits    `json:"limits"`
	GPUs   int               `json:"gpus,omitempty"`
	Files  []string          `json:"files,omitempty"` // paths, in the order of the files Secret's keys
}

func specOf(sec *corev1.Secret) storedSpec {
	var s storedSpec
	_ = json.Unmarshal([]byte(sec.Annotations[AnnotationSpec]), &s)
	if s.Name == "" {
		s.Name = sec.Annotations[AnnotationName]
	}
	if s.Image == "" {
		s.Image = sec.Annotations[AnnotationImage]
	}
	return s
}

// objects are what a container is made of in the cluster.
type objects struct {
	key string
	sec *corev1.Secret
	pod *corev1.Pod     // nil when there is none
	svc *corev1.Service // nil when there is none
}

// ours reports whether the object belongs to this runtime (managed, same
// scope, a container's).
func (r *Runtime) ours(m metav1.ObjectMeta, part string) bool {
	return m.Labels[runtime.LabelManaged] == "true" && m.Labels[LabelScope] == r.scopeVal && m.Labels[LabelPart] == part &&
		m.Labels[LabelKey] != "" && m.DeletionTimestamp == nil
}

// get returns the objects of container id; ErrNotFound for an unknown id
// or one of another scope or incarnation.
func (r *Runtime) get(ctx context.Context, id string) (objects, error) {
	key, uid, ok := parseID(id)
	if !ok {
		return objects{}, notFound(id)
	}
	name := objName(key)
	ns := r.cfg.Namespace
	sec, err := r.cs.CoreV1().Secrets(ns).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return objects{}, notFound(id)
	}
	if err != nil {
		return objects{}, r.wrap(fmt.Sprintf("container %q", id), err)
	}
	if string(sec.UID) != uid || !r.ours(sec.ObjectMeta, partContainer) || sec.Labels[LabelKey] != key {
		return objects{}, notFound(id)
	}
	o := objects{key: key, sec: sec}
	pod, err := r.cs.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{})
	switch {
	case err == nil:
		if pod.Annotations[AnnotationIncarnation] == uid {
			o.pod = pod
		}
	case !apierrors.IsNotFound(err):
		return objects{}, r.wrap(fmt.Sprintf("container %q: its Pod", id), err)
	}
	svc, err := r.cs.CoreV1().Services(ns).Get(ctx, name, metav1.GetOptions{})
	switch {
	case err == nil:
		o.svc = svc
	case !apierrors.IsNotFound(err):
		return objects{}, r.wrap(fmt.Sprintf("container %q: its Service", id), err)
	}
	return o, nil
}

// Inspect implements runtime.Runtime.
func (r *Runtime) Inspect(ctx context.Context, id string) (runtime.Container, error) {
	o, err := r.get(ctx, id)
	if err != nil {
		return runtime.Container{}, err
	}
	return r.container(o), nil
}

// selector selects this runtime's objects of the part given ("" any), and
// labels.
func (r *Runtime) selector(extra map[string]string) string {
	set := labels.Set{runtime.LabelManaged: "true", LabelScope: r.scopeVal}
	for k, v := range extra {
		set[k] = v
	}
	return labels.SelectorFromSet(set).String()
}

func listOpts(selector string, limit int64) metav1.ListOptions {
	return metav1.ListOptions{LabelSelector: selector, Limit: limit}
}

// List implements runtime.Runtime: the API server filters by the labels
// that are valid label values, the rest is matched here against the exact
// labels kept in AnnotationLabels.
func (r *Runtime) List(ctx context.Context, want map[string]string) ([]runtime.Container, error) {
	ns := r.cfg.Namespace
	sel := map[string]string{LabelPart: partContainer}
	for k, v := range want {
		if validLabelKey(k) && validLabelValue(v) && k != LabelPart {
			sel[k] = v
		}
	}
	secs, err := r.cs.CoreV1().Secrets(ns).List(ctx, listOpts(r.selector(sel), 0))
	if err != nil {
		return nil, r.wrap("listing containers", err)
	}
	pods, err := r.cs.CoreV1().Pods(ns).List(ctx, listOpts(r.selector(nil), 0))
	if err != nil {
		return nil, r.wrap("listing containers' Pods", err)
	}
	svcs, err := r.cs.CoreV1().Services(ns).List(ctx, listOpts(r.selector(map[string]string{LabelPart: partContainer}), 0))
	if err != nil {
		return nil, r.wrap("listing containers' Services", err)
	}
	podOf := map[string]*corev1.Pod{}
	for i := range pods.Items {
		p := &pods.Items[i]
		podOf[p.Annotations[AnnotationIncarnation]] = p
	}
	svcOf := map[string]*corev1.Service{}
	for i := range svcs.Items {
		svcOf[svcs.Items[i].Name] = &svcs.Items[i]
	}
	var out []runtime.Container
	for i := range secs.Items {
		sec := &secs.Items[i]
		if !r.ours(sec.ObjectMeta, partContainer) || sec.Name != objName(sec.Labels[LabelKey]) {
			continue
		}
		o := objects{key: sec.Labels[LabelKey], sec: sec, pod: podOf[string(sec.UID)], svc: svcOf[sec.Name]}
		c := r.container(o)
		if runtime.MatchLabels(c.Labels, want) {
			out = append(out, c)
		}
	}
	return out, nil
}

// container maps the objects to runtime.Container.
func (r *Runtime) container(o objects) runtime.Container {
	s := specOf(o.sec)
	lab := map[string]string{}
	if err := json.Unmarshal([]byte(o.sec.Annotations[AnnotationLabels]), &lab); err != nil || lab == nil {
		lab = map[string]string{}
	}
	lab[runtime.LabelManaged] = "true"
	c := runtime.Container{ID: o.key + "-" + string(o.sec.UID), Name: s.Name, Image: s.Image, Labels: lab,
		State: runtime.StateCreated, Created: o.sec.CreationTimestamp.UTC(), Token: string(o.sec.Data["token"])}
	if o.sec.Annotations[AnnotationStarted] != "" {
		c.State = runtime.StateExited // a Pod was created once and is gone
	}
	if p := o.pod; p != nil {
		if p.Status.StartTime != nil {
			c.Started = p.Status.StartTime.UTC()
		}
		switch {
		case p.DeletionTimestamp != nil, p.Status.Phase == corev1.PodSucceeded, p.Status.Phase == corev1.PodFailed:
			c.State = runtime.StateExited
		case p.Status.Phase == corev1.PodRunning:
			c.State = runtime.StateRunning
			c.Endpoint = r.endpoint(o)
		default: // Pending: scheduled or pulling; not running yet
			c.State = runtime.StateCreated
			if !c.Started.IsZero() || o.sec.Annotations[AnnotationStarted] != "" {
				c.State = runtime.StateRunning // starting
				c.Endpoint = r.endpoint(o)
			}
		}
		if cs := containerStatus(p); cs != nil && cs.State.Running != nil && !cs.State.Running.StartedAt.IsZero() {
			c.Started = cs.State.Running.StartedAt.UTC()
		}
	}
	return c
}

func containerStatus(p *corev1.Pod) *corev1.ContainerStatus {
	for i := range p.Status.ContainerStatuses {
		if p.Status.ContainerStatuses[i].Name == ContainerName {
			return &p.Status.ContainerStatuses[i]
		}
	}
	return nil
}

// endpoint is https://ADDRESS:AgentPort of the container's Service.
func (r *Runtime) endpoint(o objects) string {
	name := objName(o.key)
	if r.cfg.Endpoint == "dns" {
		return "https://" + name + "." + r.cfg.Namespace + ".svc:" + strconv.Itoa(AgentPort)
	}
	if o.svc == nil || o.svc.Spec.ClusterIP == "" || o.svc.Spec.ClusterIP == corev1.ClusterIPNone {
		return ""
	}
	return "https://" + net.JoinHostPort(o.svc.Spec.ClusterIP, strconv.Itoa(AgentPort))
}

// CertPEM returns the container's agent certificate, which clients may pin.
func (r *Runtime) CertPEM(ctx context.Context, id string) ([]byte, error) {
	o, err := r.get(ctx, id)
	if err != nil {
		return nil, err
	}
	if len(o.sec.Data["cert.pem"]) == 0 {
		return nil, errdefs.NotFoundf("container %q has no certificate yet", id)
	}
	return o.sec.Data["cert.pem"], nil
}

func since(t *metav1.Time) time.Duration {
	if t == nil {
		return 0
	}
	return time.Since(t.Time)
}
