package kube

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/runtime"
)

// maxFiles bounds Spec.Files: they travel in a Secret, which the API
// server keeps under 1 MiB.
const maxFiles = 512 << 10

// Create implements runtime.Runtime: it creates the container's Secret
// (its certificate, key and token), Service and NetworkPolicy, and the
// Secret of its files; the Pod is created by Start.
func (r *Runtime) Create(ctx context.Context, spec runtime.Spec) (runtime.Container, error) {
	if err := runtime.ValidateSpec(spec); err != nil {
		return runtime.Container{}, err
	}
	if spec.AgentCert != nil {
		return runtime.Container{}, errdefs.Invalidf("container %q: the kubernetes runtime does not take operator certificates (its agent is dialled at a cluster IP assigned when the container is created): start it without --cert, and the server CA issues its certificate", spec.Name)
	}
	if spec.Image == "" {
		return runtime.Container{}, errdefs.Invalidf("container %q: no image: name an image that holds the dockyard binary at %s", spec.Name, r.cfg.Entrypoint[0])
	}
	if spec.Limits.CPUs < 0 || spec.Limits.MemoryBytes < 0 || spec.Limits.MaxProcs < 0 || spec.Limits.MaxOpenFiles < 0 {
		return runtime.Container{}, errdefs.Invalidf("container %q: limits must be 0 (unlimited) or more", spec.Name)
	}
	size := 0
	for _, b := range spec.Files {
		size += len(b)
	}
	if size > maxFiles {
		return runtime.Container{}, errdefs.Invalidf("container %q: its files are %d bytes, more than the %d a Kubernetes Secret carries: copy large files over the agent API once it runs", spec.Name, size, maxFiles)
	}
	key := r.key(spec.Name)
	name := objName(key)
	labelsJSON, err := json.Marshal(runtime.WithManaged(spec.Labels))
	if err != nil {
		return runtime.Container{}, err
	}
	stored, err := json.Marshal(storedSpec{Name: spec.Name, Image: spec.Image, Args: spec.Args, Env: spec.Env,
		Limits: spec.Limits, GPUs: spec.GPUs, Files: sortedKeys(spec.Files)})
	if err != nil {
		return runtime.Container{}, err
	}
	meta := metav1.ObjectMeta{
		Name:   name,
		Labels: r.objLabels(key, partContainer, spec.Labels),
		Annotations: map[string]string{
			AnnotationName:   spec.Name,
			AnnotationImage:  spec.Image,
			AnnotationLabels: string(labelsJSON),
			AnnotationGPUs:   strconv.Itoa(spec.GPUs),
			AnnotationSpec:   string(stored),
		},
	}
	ns := r.cfg.Namespace
	// The Secret claims the name: a second container of the same name in
	// this scope conflicts here. Its certificate comes once the Service
	// has its cluster IP.
	sec := &corev1.Secret{ObjectMeta: meta, Type: corev1.SecretTypeOpaque, Data: map[string][]byte{"token": []byte(randomHex(32))}}
	if len(r.cfg.ClientCAPEM) > 0 {
		sec.Data["client-ca.pem"] = r.cfg.ClientCAPEM
	}
	sec, err = r.cs.CoreV1().Secrets(ns).Create(ctx, sec, metav1.CreateOptions{})
	if err != nil {
		err = r.wrap(fmt.Sprintf("container %q", spec.Name), err)
		if errdefs.IsConflict(err) {
			return runtime.Container{}, errdefs.Conflictf("container name %q is in use in namespace %s (as %s): remove it first", spec.Name, ns, name)
		}
		return runtime.Container{}, err
	}
	id := key + "-" + string(sec.UID)
	undo := func() { r.deleteObjects(context.WithoutCancel(ctx), key, string(sec.UID), 0) }
	owner := []metav1.OwnerReference{{APIVersion: "v1", Kind: "Secret", Name: name, UID: sec.UID}}

	svcMeta := *meta.DeepCopy()
	svcMeta.OwnerReferences = owner
	svc := &corev1.Service{ObjectMeta: svcMeta, Spec: corev1.ServiceSpec{
		Type:     corev1.ServiceTypeClusterIP,
		Selector: map[string]string{LabelKey: key, LabelScope: r.scopeVal, runtime.LabelManaged: "true"},
		Ports:    []corev1.ServicePort{{Name: "agent", Protocol: corev1.ProtocolTCP, Port: AgentPort, TargetPort: intstr.FromInt32(AgentPort)}},
	}}
	svc, err = r.cs.CoreV1().Services(ns).Create(ctx, svc, metav1.CreateOptions{})
	if err != nil {
		undo()
		return runtime.Container{}, r.wrap(fmt.Sprintf("container %q: its Service", spec.Name), err)
	}
	hosts := []string{name, name + "." + ns, name + "." + ns + ".svc", name + "." + ns + ".svc.cluster.local"}
	if ip := svc.Spec.ClusterIP; ip != "" && ip != corev1.ClusterIPNone {
		hosts = append([]string{ip}, hosts...)
	} else if r.cfg.Endpoint == "service" {
		undo()
		return runtime.Container{}, errdefs.Unavailablef("container %q: its Service got no cluster IP: set containers.kubernetes.endpoint to dns", spec.Name)
	}
	certPEM, keyPEM, err := r.cfg.Issuer.IssueServer("dockyard-agent-"+spec.Name, hosts, r.cfg.CertTTL)
	if err != nil {
		undo()
		return runtime.Container{}, fmt.Errorf("container %q: issuing the agent certificate: %w", spec.Name, err)
	}
	sec.Data["cert.pem"], sec.Data["key.pem"] = certPEM, keyPEM
	if _, err = r.cs.CoreV1().Secrets(ns).Update(ctx, sec, metav1.UpdateOptions{}); err != nil {
		undo()
		return runtime.Container{}, r.wrap(fmt.Sprintf("container %q: storing its certificate", spec.Name), err)
	}

	npMeta := *meta.DeepCopy()
	npMeta.OwnerReferences = owner
	if _, err := r.cs.NetworkingV1().NetworkPolicies(ns).Create(ctx, r.networkPolicy(npMeta, key), metav1.CreateOptions{}); err != nil {
		undo()
		return runtime.Container{}, r.wrap(fmt.Sprintf("container %q: its NetworkPolicy", spec.Name), err)
	}
	if r.cfg.AgentRootSize != "" {
		pm := *meta.DeepCopy()
		pm.OwnerReferences = owner
		pvc := &corev1.PersistentVolumeClaim{ObjectMeta: pm, Spec: corev1.PersistentVolumeClaimSpec{
			AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			Resources:   corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse(r.cfg.AgentRootSize)}},
		}}
		if r.cfg.StorageClass != "" {
			sc := r.cfg.StorageClass
			pvc.Spec.StorageClassName = &sc
		}
		if _, err := r.cs.CoreV1().PersistentVolumeClaims(ns).Create(ctx, pvc, metav1.CreateOptions{}); err != nil {
			undo()
			return runtime.Container{}, r.wrap(fmt.Sprintf("container %q: the claim of its agent root", spec.Name), err)
		}
	}
	if len(spec.Files) > 0 {
		fm := *meta.DeepCopy()
		fm.Name = name + "-files"
		fm.Labels = r.objLabels(key, partFiles, nil)
		fm.OwnerReferences = owner
		files := &corev1.Secret{ObjectMeta: fm, Type: corev1.SecretTypeOpaque, Data: map[string][]byte{}}
		for i, p := range sortedKeys(spec.Files) {
			files.Data[fileKey(i)] = spec.Files[p]
		}
		if _, err := r.cs.CoreV1().Secrets(ns).Create(ctx, files, metav1.CreateOptions{}); err != nil {
			undo()
			return runtime.Container{}, r.wrap(fmt.Sprintf("container %q: the Secret of its files", spec.Name), err)
		}
	}
	c, err := r.Inspect(ctx, id)
	if err != nil {
		undo()
		return runtime.Container{}, err
	}
	r.log.Info("container created", "id", id, "name", spec.Name, "image", spec.Image, "gpus", spec.GPUs, "namespace", ns)
	return c, nil
}

func fileKey(i int) string { return fmt.Sprintf("file-%d", i) }

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// objLabels are the labels of a container's objects: the spec's labels
// that are valid label values (all of them are in AnnotationLabels), this
// runtime's, and LabelManaged.
func (r *Runtime) objLabels(key, part string, spec map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range spec {
		if validLabelKey(k) && validLabelValue(v) {
			out[k] = v
		}
	}
	out[runtime.LabelManaged] = "true"
	out[LabelScope] = r.scopeVal
	out[LabelKey] = key
	out[LabelPart] = part
	return out
}

func validLabelKey(k string) bool {
	// Dockyard's own keys have no prefix: a name part only.
	return len(k) <= 63 && labelValueRE.MatchString(k) && k != ""
}

// networkPolicy admits the server, and nothing else, to the agent port of
// the container's Pod.
func (r *Runtime) networkPolicy(meta metav1.ObjectMeta, key string) *networkingv1.NetworkPolicy {
	port := intstr.FromInt32(AgentPort)
	tcp := corev1.ProtocolTCP
	var from []networkingv1.NetworkPolicyPeer
	if len(r.cfg.ServerPodLabels) > 0 {
		peer := networkingv1.NetworkPolicyPeer{PodSelector: &metav1.LabelSelector{MatchLabels: r.cfg.ServerPodLabels}}
		if r.cfg.ServerNamespace != "" && r.cfg.ServerNamespace != r.cfg.Namespace {
			peer.NamespaceSelector = &metav1.LabelSelector{MatchLabels: map[string]string{"kubernetes.io/metadata.name": r.cfg.ServerNamespace}}
		}
		from = append(from, peer)
	}
	for _, c := range r.cfg.ServerCIDRs {
		from = append(from, networkingv1.NetworkPolicyPeer{IPBlock: &networkingv1.IPBlock{CIDR: c}})
	}
	return &networkingv1.NetworkPolicy{ObjectMeta: meta, Spec: networkingv1.NetworkPolicySpec{
		PodSelector: metav1.LabelSelector{MatchLabels: map[string]string{LabelKey: key, LabelScope: r.scopeVal}},
		PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress},
		Ingress:     []networkingv1.NetworkPolicyIngressRule{{From: from, Ports: []networkingv1.NetworkPolicyPort{{Protocol: &tcp, Port: &port}}}},
	}}
}

// limits are spec's limits, each 0 taken from the runtime's defaults, and
// where the memory limit is set.
func (r *Runtime) limits(l runtime.Limits) (runtime.Limits, string) {
	setting := "the container's memory limit"
	if l.MemoryBytes == 0 {
		l.MemoryBytes = r.cfg.Limits.MemoryBytes
		if r.cfg.LimitsSetting != "" {
			setting = r.cfg.LimitsSetting + ".memory_bytes"
		}
	}
	if l.CPUs == 0 {
		l.CPUs = r.cfg.Limits.CPUs
	}
	return l, setting
}

// podSpec is the hardened Pod of a container (see the package comment).
func (r *Runtime) podSpec(key string, sec *corev1.Secret, files *corev1.Secret, withEnv bool, pull []corev1.LocalObjectReference) *corev1.Pod {
	name := objName(key)
	spec := specOf(sec)
	lim, setting := r.limits(spec.Limits)
	env := map[string]string{}
	for k, v := range spec.Env {
		env[k] = v
	}
	env["DOCKYARD_CONTAINER"] = spec.Name
	env["HOME"] = "/tmp" // the root file system is read-only
	if lim.MemoryBytes > 0 {
		env["DOCKYARD_MEMORY_LIMIT"] = strconv.FormatInt(lim.MemoryBytes, 10)
		env["DOCKYARD_MEMORY_LIMIT_SETTING"] = setting
	}
	var envVars []corev1.EnvVar
	for _, k := range sortedKeys(env) {
		envVars = append(envVars, corev1.EnvVar{Name: k, Value: env[k]})
	}
	res := corev1.ResourceRequirements{Limits: corev1.ResourceList{}, Requests: corev1.ResourceList{}}
	if lim.CPUs > 0 {
		q := resource.NewMilliQuantity(int64(math.Ceil(lim.CPUs*1000)), resource.DecimalSI)
		res.Limits[corev1.ResourceCPU], res.Requests[corev1.ResourceCPU] = *q, *q
	}
	if lim.MemoryBytes > 0 {
		q := resource.NewQuantity(lim.MemoryBytes, resource.BinarySI)
		res.Limits[corev1.ResourceMemory], res.Requests[corev1.ResourceMemory] = *q, *q
	}
	if spec.GPUs > 0 {
		res.Limits[GPUResource] = *resource.NewQuantity(int64(spec.GPUs), resource.DecimalSI)
	}
	f, t := false, true
	mode := int32(0o440)
	grace := int64(math.Ceil(r.cfg.RemoveGrace.Seconds()))
	sc := &corev1.SecurityContext{
		AllowPrivilegeEscalation: &f,
		Privileged:               &f,
		ReadOnlyRootFilesystem:   &t,
		RunAsNonRoot:             &t,
		Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
		SeccompProfile:           &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
	}
	psc := &corev1.PodSecurityContext{RunAsNonRoot: &t, SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}}
	if !r.cfg.PlatformUser {
		uid := r.cfg.RunAsUser
		sc.RunAsUser, sc.RunAsGroup = &uid, &uid
		psc.RunAsUser, psc.RunAsGroup, psc.FSGroup = &uid, &uid, &uid
	}
	tmpLimit := resource.MustParse("1Gi")
	mounts := []corev1.VolumeMount{
		{Name: "root", MountPath: AgentRoot},
		{Name: "tmp", MountPath: "/tmp"},
		{Name: "secrets", MountPath: SecretDir, ReadOnly: true},
	}
	vols := []corev1.Volume{
		{Name: "root", VolumeSource: r.rootVolume(name)},
		{Name: "tmp", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{SizeLimit: &tmpLimit}}},
		{Name: "secrets", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: name, DefaultMode: &mode}}},
	}
	if files != nil {
		paths := spec.Files
		var items []corev1.KeyToPath
		for i, p := range paths {
			if _, ok := files.Data[fileKey(i)]; ok {
				items = append(items, corev1.KeyToPath{Key: fileKey(i), Path: p})
				// Each file is mounted at its path in the agent root
				// (read-only: the Secret is its source).
				mounts = append(mounts, corev1.VolumeMount{Name: "files", MountPath: AgentRoot + "/" + p, SubPath: p, ReadOnly: true})
			}
		}
		fmode := int32(0o444)
		vols = append(vols, corev1.Volume{Name: "files", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: files.Name, Items: items, DefaultMode: &fmode}}})
	}
	c := corev1.Container{
		Name:            ContainerName,
		Image:           spec.Image,
		ImagePullPolicy: corev1.PullPolicy(r.cfg.ImagePullPolicy),
		Command:         r.cfg.Entrypoint,
		Args:            r.agentArgs(spec.Args),
		WorkingDir:      AgentRoot,
		Env:             envVars,
		Ports:           []corev1.ContainerPort{{Name: "agent", ContainerPort: AgentPort, Protocol: corev1.ProtocolTCP}},
		Resources:       res,
		SecurityContext: sc,
		VolumeMounts:    mounts,
		// The agent's /healthz may ask for a client certificate, which the
		// kubelet has none of: readiness is the port accepting.
		ReadinessProbe:           &corev1.Probe{ProbeHandler: corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromInt32(AgentPort)}}, PeriodSeconds: 2},
		TerminationMessagePolicy: corev1.TerminationMessageFallbackToLogsOnError,
	}
	if withEnv {
		c.EnvFrom = []corev1.EnvFromSource{{SecretRef: &corev1.SecretEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: name + "-env"}, Optional: &t}}}
	}
	labels := map[string]string{}
	for k, v := range sec.Labels {
		labels[k] = v
	}
	annotations := map[string]string{AnnotationIncarnation: string(sec.UID)}
	for k, v := range sec.Annotations {
		if k != AnnotationStarted {
			annotations[k] = v
		}
	}
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels, Annotations: annotations,
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "v1", Kind: "Secret", Name: name, UID: sec.UID}}},
		Spec: corev1.PodSpec{
			Containers:                    []corev1.Container{c},
			Volumes:                       vols,
			RestartPolicy:                 corev1.RestartPolicyNever,
			AutomountServiceAccountToken:  &f,
			EnableServiceLinks:            &f,
			SecurityContext:               psc,
			TerminationGracePeriodSeconds: &grace,
			ImagePullSecrets:              pull,
		},
	}
	if spec.GPUs > 0 {
		if len(r.cfg.GPUNodeSelector) > 0 {
			pod.Spec.NodeSelector = map[string]string{}
			for k, v := range r.cfg.GPUNodeSelector {
				pod.Spec.NodeSelector[k] = v
			}
		}
		for _, tol := range r.cfg.GPUTolerations {
			pod.Spec.Tolerations = append(pod.Spec.Tolerations, corev1.Toleration{Key: tol.Key, Operator: corev1.TolerationOperator(tol.Operator),
				Value: tol.Value, Effect: corev1.TaintEffect(tol.Effect)})
		}
	}
	return pod
}

// rootVolume is the agent root: the container's claim (AgentRootSize),
// else an emptyDir.
func (r *Runtime) rootVolume(name string) corev1.VolumeSource {
	if r.cfg.AgentRootSize != "" {
		return corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: name}}
	}
	return corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}
}

// agentArgs are the arguments after the entrypoint.
func (r *Runtime) agentArgs(extra []string) []string {
	args := []string{"agent", "--addr", fmt.Sprintf("0.0.0.0:%d", AgentPort),
		"--cert", SecretDir + "/cert.pem", "--key", SecretDir + "/key.pem",
		"--token-file", SecretDir + "/token", "--root", AgentRoot}
	if len(r.cfg.ClientCAPEM) > 0 {
		args = append(args, "--client-ca", ClientCAFile)
	}
	if r.cfg.Python != "" {
		args = append(args, "--python", r.cfg.Python)
	}
	return append(args, extra...)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
