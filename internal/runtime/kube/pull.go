package kube

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/dockyard/dockyard/internal/runtime"
)

// PullImage implements runtime.ImagePuller for a cluster, where the
// kubelet pulls: it keeps the registry's credentials (from the image
// catalogue's sealed registry credentials) in a dockerconfigjson Secret,
// one per registry host, which the Pods of images from that host name in
// imagePullSecrets. With auth nil (an anonymous registry) the host's
// Secret is deleted. The image itself is pulled by the kubelet when a Pod
// starts (image pull policy IfNotPresent; refs are pinned by digest).
func (r *Runtime) PullImage(ctx context.Context, ref string, auth *runtime.RegistryAuth) error {
	host := registryHost(ref)
	if host == "" {
		return nil // a local image name: nothing to authenticate to
	}
	name := pullSecretName(host)
	secrets := r.cs.CoreV1().Secrets(r.cfg.Namespace)
	if auth == nil {
		if err := secrets.Delete(ctx, name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
			return r.wrap(fmt.Sprintf("pulling %s: deleting the pull secret of %s", ref, host), err)
		}
		return nil
	}
	server := auth.Server
	if server == "" {
		server = host
	}
	cfg := map[string]any{"auths": map[string]any{server: map[string]string{
		"username": auth.Username, "password": auth.Password,
		"auth": base64.StdEncoding.EncodeToString([]byte(auth.Username + ":" + auth.Password)),
	}}}
	b, err := json.Marshal(cfg)
	if err != nil {
		return err
	}
	labels := map[string]string{runtime.LabelManaged: "true", LabelScope: r.scopeVal, LabelPart: partRegistry, LabelRegistry: hash(host)[:32]}
	sec := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels, Annotations: map[string]string{AnnotationRegistry: host}},
		Type: corev1.SecretTypeDockerConfigJson, Data: map[string][]byte{corev1.DockerConfigJsonKey: b}}
	old, err := secrets.Get(ctx, name, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		_, err = secrets.Create(ctx, sec, metav1.CreateOptions{})
	case err == nil:
		old.Data, old.Labels, old.Annotations = sec.Data, sec.Labels, sec.Annotations
		_, err = secrets.Update(ctx, old, metav1.UpdateOptions{})
	}
	if err != nil {
		return r.wrap(fmt.Sprintf("pulling %s: storing the pull secret of %s", ref, host), err)
	}
	r.log.Info("registry credentials stored for the kubelet", "registry", host, "secret", name)
	return nil
}

// pullSecrets names the pull secret of image's registry, when there is one.
func (r *Runtime) pullSecrets(ctx context.Context, image string) []corev1.LocalObjectReference {
	host := registryHost(image)
	if host == "" {
		return nil
	}
	name := pullSecretName(host)
	if _, err := r.cs.CoreV1().Secrets(r.cfg.Namespace).Get(ctx, name, metav1.GetOptions{}); err != nil {
		return nil
	}
	return []corev1.LocalObjectReference{{Name: name}}
}

// pullSecretName is the name of the pull secret of a registry host (its
// hash: one host, one Secret, whatever the scope).
func pullSecretName(host string) string { return "dockyard-registry-" + hash(host)[:20] }

// registryHost is the registry host of an image reference, or "" when it
// names none (a Docker Hub short name or an image id).
func registryHost(ref string) string {
	first, _, ok := strings.Cut(ref, "/")
	if !ok || !(strings.ContainsAny(first, ".:") || first == "localhost") {
		return ""
	}
	return first
}
