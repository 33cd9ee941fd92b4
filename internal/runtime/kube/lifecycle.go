package kube

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/runtime"
)

// envHECCAFile is agent.EnvHECCAFile: a PEM path on the server's machine,
// which StartWithEnv copies into the Secret and replaces by HECCAFile.
const envHECCAFile = "DOCKYARD_HEC_CA_FILE"

// maxCAFile bounds the HEC CA file copied into a Secret.
const maxCAFile = 256 << 10

// Start implements runtime.Runtime: it creates the container's Pod (a
// stopped one is replaced) and waits until its agent answers /healthz on
// the endpoint, verified against the container's own certificate. A
// container whose Pod runs is left alone.
func (r *Runtime) Start(ctx context.Context, id string) error {
	return r.StartWithEnv(ctx, id, nil)
}

// StartWithEnv starts the container like Start, adding env to its agent's
// environment for this run only (containers.EnvStarter): env goes into a
// Secret (NAME-env) the Pod takes its environment from (envFrom), which is
// deleted once the agent answers, so it is neither in the Pod's spec nor
// kept. DOCKYARD_HEC_CA_FILE, a path on the server's machine, is copied
// into the container's Secret as HECCAFile and the variable points there.
func (r *Runtime) StartWithEnv(ctx context.Context, id string, env map[string]string) error {
	o, err := r.get(ctx, id)
	if err != nil {
		return err
	}
	name := specOf(o.sec).Name
	if o.pod != nil && o.pod.DeletionTimestamp == nil && (o.pod.Status.Phase == corev1.PodRunning || o.pod.Status.Phase == corev1.PodPending) {
		return nil
	}
	ns := r.cfg.Namespace
	pods := r.cs.CoreV1().Pods(ns)
	// A stopped Pod (or one of an earlier container of the same name) is
	// replaced.
	if err := r.deletePodAndWait(ctx, objName(o.key), 0); err != nil {
		return fmt.Errorf("container %q: removing its stopped Pod: %w", name, err)
	}
	if err := r.writeStartEnv(ctx, o, env); err != nil {
		return err
	}
	var files *corev1.Secret
	if len(specOf(o.sec).Files) > 0 {
		files, err = r.cs.CoreV1().Secrets(ns).Get(ctx, objName(o.key)+"-files", metav1.GetOptions{})
		if err != nil {
			return r.wrap(fmt.Sprintf("container %q: the Secret of its files", name), err)
		}
	}
	if o.sec.Annotations[AnnotationStarted] == "" {
		patch := fmt.Sprintf(`{"metadata":{"annotations":{%q:%q}}}`, AnnotationStarted, time.Now().UTC().Format(time.RFC3339))
		if _, err := r.cs.CoreV1().Secrets(ns).Patch(ctx, o.sec.Name, types.MergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
			return r.wrap(fmt.Sprintf("container %q", name), err)
		}
	}
	pod := r.podSpec(o.key, o.sec, files, len(env) > 0, r.pullSecrets(ctx, specOf(o.sec).Image))
	if _, err := pods.Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		r.dropStartEnv(ctx, o.key)
		return r.wrap(fmt.Sprintf("container %q: creating its Pod", name), err)
	}
	err = r.waitHealthy(ctx, id, name)
	// The kubelet has read the start environment (or will never need it:
	// the Pod does not restart).
	r.dropStartEnv(ctx, o.key)
	if err != nil {
		_ = r.Stop(context.WithoutCancel(ctx), id, time.Second)
		return err
	}
	r.log.Info("container started", "id", id, "name", name)
	return nil
}

// writeStartEnv stores env in the NAME-env Secret (deleting an older one),
// copying the HEC CA file into the container's Secret.
func (r *Runtime) writeStartEnv(ctx context.Context, o objects, env map[string]string) error {
	ns := r.cfg.Namespace
	name := specOf(o.sec).Name
	r.dropStartEnv(ctx, o.key)
	if len(env) == 0 {
		return nil
	}
	vars := map[string][]byte{}
	for k, v := range env {
		if k == "" || strings.ContainsAny(k, "= \t\r\n\x00") {
			return errdefs.Invalidf("container %q: start environment variable name %q is not valid: use letters, digits and '_'", name, k)
		}
		vars[k] = []byte(v)
	}
	if p := env[envHECCAFile]; p != "" {
		b, err := readSmallFile(p, maxCAFile)
		if err != nil {
			r.log.Warn("the HEC CA file cannot be copied into the container: its notebooks get no "+envHECCAFile, "name", name, "file", p, "err", err)
			delete(vars, envHECCAFile)
		} else {
			vars[envHECCAFile] = []byte(HECCAFile)
			o.sec.Data["hec-ca.pem"] = b
			if _, err := r.cs.CoreV1().Secrets(ns).Update(ctx, o.sec, metav1.UpdateOptions{}); err != nil {
				return r.wrap(fmt.Sprintf("container %q: storing the HEC CA", name), err)
			}
		}
	}
	sec := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: objName(o.key) + "-env", Labels: r.objLabels(o.key, partEnv, nil),
		OwnerReferences: []metav1.OwnerReference{{APIVersion: "v1", Kind: "Secret", Name: o.sec.Name, UID: o.sec.UID}}},
		Type: corev1.SecretTypeOpaque, Data: vars}
	if _, err := r.cs.CoreV1().Secrets(ns).Create(ctx, sec, metav1.CreateOptions{}); err != nil {
		return r.wrap(fmt.Sprintf("container %q: its start environment", name), err)
	}
	return nil
}

// dropStartEnv deletes the NAME-env Secret (best effort).
func (r *Runtime) dropStartEnv(ctx context.Context, key string) {
	err := r.cs.CoreV1().Secrets(r.cfg.Namespace).Delete(context.WithoutCancel(ctx), objName(key)+"-env", metav1.DeleteOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		r.log.Warn("deleting a container's start environment Secret", "secret", objName(key)+"-env", "err", err)
	}
}

// deletePodAndWait deletes the Pod called name, if any, and waits until
// it is gone (grace: its terminationGracePeriodSeconds when negative).
func (r *Runtime) deletePodAndWait(ctx context.Context, name string, grace int64) error {
	pods := r.cs.CoreV1().Pods(r.cfg.Namespace)
	opts := metav1.DeleteOptions{}
	if grace >= 0 {
		opts.GracePeriodSeconds = &grace
	}
	err := pods.Delete(ctx, name, opts)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return r.wrap("deleting Pod "+name, err)
	}
	ctx, cancel := context.WithTimeout(ctx, r.cfg.StartTimeout+r.cfg.RemoveGrace)
	defer cancel()
	for {
		_, err := pods.Get(ctx, name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return nil
		}
		select {
		case <-ctx.Done():
			return errdefs.Unavailablef("Pod %s is still terminating after %s: is its node's kubelet running? (kubectl describe pod %s)", name, r.cfg.StartTimeout+r.cfg.RemoveGrace, name)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func (r *Runtime) waitHealthy(ctx context.Context, id, name string) error {
	o, err := r.get(ctx, id)
	if err != nil {
		return err
	}
	pool := x509.NewCertPool() // pin the container's own certificate
	if !pool.AppendCertsFromPEM(o.sec.Data["cert.pem"]) {
		return fmt.Errorf("container %q: its Secret holds no certificate", name)
	}
	tc := &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	if r.cfg.ClientCert != nil {
		tc.Certificates = []tls.Certificate{*r.cfg.ClientCert}
	}
	tr := &http.Transport{TLSClientConfig: tc}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr, Timeout: 2 * time.Second}
	ctx, cancel := context.WithTimeout(ctx, r.cfg.StartTimeout)
	defer cancel()
	pod := objName(o.key)
	lastErr := fmt.Errorf("the Pod is not scheduled yet")
	changed, stop := r.podChanged()
	defer stop()
	for {
		o, err := r.get(ctx, id)
		if err != nil {
			if ctx.Err() != nil {
				return r.startTimeout(pod, name, lastErr)
			}
			return err
		}
		switch {
		case o.pod == nil:
			return errdefs.Unavailablef("container %q: its Pod %s vanished while starting", name, pod)
		case o.pod.Status.Phase == corev1.PodFailed || o.pod.Status.Phase == corev1.PodSucceeded:
			code := int32(0)
			if cs := containerStatus(o.pod); cs != nil && cs.State.Terminated != nil {
				code = cs.State.Terminated.ExitCode
			}
			return errdefs.Unavailablef("container %q: the agent exited with code %d while starting; check the image's %s and `kubectl logs -n %s %s`: %s",
				name, code, strings.Join(r.cfg.Entrypoint, " "), r.cfg.Namespace, pod, r.logTail(pod))
		case o.pod.Status.Phase == corev1.PodPending:
			lastErr = fmt.Errorf("the Pod is pending: %s", pendingReason(o.pod))
		default:
			ep := r.endpoint(o)
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, ep+"/healthz", nil)
			resp, err := hc.Do(req)
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					return nil
				}
				err = fmt.Errorf("/healthz answered %d", resp.StatusCode)
			}
			lastErr = err
		}
		wait := pollEvery
		if o.pod != nil && o.pod.Status.Phase == corev1.PodRunning {
			wait = 200 * time.Millisecond // the agent is coming up: ask it again soon
		}
		select {
		case <-ctx.Done():
			return r.startTimeout(pod, name, lastErr)
		case <-changed:
		case <-time.After(wait):
		}
	}
}

// pendingReason says why a Pod is pending, from its conditions and its
// container's waiting state.
func pendingReason(p *corev1.Pod) string {
	if cs := containerStatus(p); cs != nil && cs.State.Waiting != nil && cs.State.Waiting.Reason != "" {
		return cs.State.Waiting.Reason + ": " + cs.State.Waiting.Message
	}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodScheduled && c.Status != corev1.ConditionTrue {
			return "unschedulable: " + c.Message
		}
	}
	if p.Spec.NodeName == "" {
		return "not scheduled yet"
	}
	return "scheduled on " + p.Spec.NodeName + ", not running yet"
}

func (r *Runtime) startTimeout(pod, name string, lastErr error) error {
	return errdefs.Unavailablef("container %q: the agent did not answer on its endpoint within %s (%w); check `kubectl describe pod -n %s %s` and its logs: %s",
		name, r.cfg.StartTimeout, lastErr, r.cfg.Namespace, pod, r.logTail(pod))
}

// logTail is the end of the Pod's output, for error messages.
func (r *Runtime) logTail(pod string) string {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	tail := int64(20)
	b, err := r.cs.CoreV1().Pods(r.cfg.Namespace).GetLogs(pod, &corev1.PodLogOptions{Container: ContainerName, TailLines: &tail}).DoRaw(ctx)
	if err != nil {
		return "(no logs: " + err.Error() + ")"
	}
	return runtime.Tail(b)
}

// Stop implements runtime.Runtime: it sets the Pod's activeDeadlineSeconds
// to the time it has run, so that the kubelet stops its agent (SIGTERM,
// SIGKILL after the Pod's terminationGracePeriodSeconds, which is
// Config.RemoveGrace: grace is not the kubelet's to take per stop) and
// keeps the stopped Pod with its logs; it waits until the Pod has stopped.
func (r *Runtime) Stop(ctx context.Context, id string, grace time.Duration) error {
	o, err := r.get(ctx, id)
	if err != nil {
		return err
	}
	p := o.pod
	if p == nil || p.DeletionTimestamp != nil || p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed {
		return nil
	}
	name := specOf(o.sec).Name
	if p.Status.StartTime == nil || p.Status.Phase == corev1.PodPending {
		// Not running yet: nothing to keep but the Pod; delete it.
		if err := r.deletePodAndWait(ctx, p.Name, 0); err != nil {
			return fmt.Errorf("container %q: stopping it: %w", name, err)
		}
		return nil
	}
	deadline := int64(since(p.Status.StartTime).Seconds())
	if deadline < 1 {
		deadline = 1
	}
	if p.Spec.ActiveDeadlineSeconds == nil || *p.Spec.ActiveDeadlineSeconds > deadline {
		patch := fmt.Sprintf(`{"spec":{"activeDeadlineSeconds":%d}}`, deadline)
		if _, err := r.cs.CoreV1().Pods(r.cfg.Namespace).Patch(ctx, p.Name, types.StrategicMergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
			return r.wrap(fmt.Sprintf("container %q: stopping it", name), err)
		}
	}
	wait := r.cfg.RemoveGrace + r.cfg.StartTimeout
	wctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	changed, stop := r.podChanged()
	defer stop()
	for {
		o, err := r.get(wctx, id)
		if err == nil && (o.pod == nil || o.pod.DeletionTimestamp != nil || o.pod.Status.Phase == corev1.PodSucceeded || o.pod.Status.Phase == corev1.PodFailed) {
			r.log.Info("container stopped", "id", id, "name", name)
			return nil
		}
		if err != nil && errdefs.IsNotFound(err) {
			return err
		}
		select {
		case <-wctx.Done():
			if ctx.Err() != nil {
				return ctx.Err()
			}
			// The kubelet did not act on the deadline: delete the Pod.
			r.log.Warn("the Pod did not stop at its deadline; deleting it", "pod", p.Name, "after", wait)
			return r.deletePodAndWait(ctx, p.Name, int64(grace.Seconds()))
		case <-changed:
		case <-time.After(pollEvery):
		}
	}
}

// Remove implements runtime.Runtime: it deletes the container's Pod
// (after Config.RemoveGrace), Service, NetworkPolicy and Secrets.
func (r *Runtime) Remove(ctx context.Context, id string) error {
	o, err := r.get(ctx, id)
	if err != nil {
		return err
	}
	if err := r.deleteObjects(ctx, o.key, string(o.sec.UID), int64(r.cfg.RemoveGrace.Seconds())); err != nil {
		return err
	}
	r.log.Info("container removed", "id", id)
	return nil
}

// deleteObjects deletes a container's objects, the Secret (the name's
// claim) last; the Pod only when it belongs to incarnation uid.
func (r *Runtime) deleteObjects(ctx context.Context, key, uid string, grace int64) error {
	ns := r.cfg.Namespace
	name := objName(key)
	var errs []string
	if p, err := r.cs.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{}); err == nil && p.Annotations[AnnotationIncarnation] == uid {
		if err := r.cs.CoreV1().Pods(ns).Delete(ctx, name, metav1.DeleteOptions{GracePeriodSeconds: &grace,
			Preconditions: &metav1.Preconditions{UID: &p.UID}}); err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
			errs = append(errs, "Pod: "+err.Error())
		}
	}
	del := func(kind string, f func() error) {
		if err := f(); err != nil && !apierrors.IsNotFound(err) {
			errs = append(errs, kind+": "+err.Error())
		}
	}
	del("Service", func() error { return r.cs.CoreV1().Services(ns).Delete(ctx, name, metav1.DeleteOptions{}) })
	del("NetworkPolicy", func() error { return r.cs.NetworkingV1().NetworkPolicies(ns).Delete(ctx, name, metav1.DeleteOptions{}) })
	if r.cfg.AgentRootSize != "" {
		del("PersistentVolumeClaim", func() error {
			return r.cs.CoreV1().PersistentVolumeClaims(ns).Delete(ctx, name, metav1.DeleteOptions{})
		})
	}
	del("Secret", func() error { return r.cs.CoreV1().Secrets(ns).Delete(ctx, name+"-env", metav1.DeleteOptions{}) })
	del("Secret", func() error { return r.cs.CoreV1().Secrets(ns).Delete(ctx, name+"-files", metav1.DeleteOptions{}) })
	if len(errs) == 0 {
		u := types.UID(uid)
		del("Secret", func() error {
			return r.cs.CoreV1().Secrets(ns).Delete(ctx, name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &u}})
		})
	}
	if len(errs) > 0 {
		return errdefs.Unavailablef("removing container objects %s in namespace %s: %s", name, ns, strings.Join(errs, "; "))
	}
	return nil
}

// Logs implements runtime.Runtime: the Pod's logs (pods/log, served by its
// node's kubelet) since since; nothing when no Pod has run.
func (r *Runtime) Logs(ctx context.Context, id string, since time.Time) (io.ReadCloser, error) {
	o, err := r.get(ctx, id)
	if err != nil {
		return nil, err
	}
	if o.pod == nil || o.pod.Spec.NodeName == "" {
		return io.NopCloser(strings.NewReader("")), nil
	}
	opts := &corev1.PodLogOptions{Container: ContainerName}
	if !since.IsZero() {
		t := metav1.NewTime(since)
		opts.SinceTime = &t
	}
	rc, err := r.cs.CoreV1().Pods(r.cfg.Namespace).GetLogs(o.pod.Name, opts).Stream(ctx)
	if err != nil {
		if apierrors.IsBadRequest(err) {
			// Waiting to start, or its container is gone: no output.
			return io.NopCloser(strings.NewReader("")), nil
		}
		return nil, r.wrap(fmt.Sprintf("container %q logs", id), err)
	}
	return rc, nil
}

// readSmallFile reads a regular file of at most max bytes.
func readSmallFile(p string, max int64) ([]byte, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("%s is larger than %d bytes", p, max)
	}
	return b, nil
}
