package server

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/dockyard/dockyard/internal/config"
	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/pki"
	"github.com/dockyard/dockyard/internal/runtime/kube"
)

// kubePingTimeout bounds the check that the API server answers when the
// server opens.
const kubePingTimeout = 15 * time.Second

// inClusterNamespaceFile names the namespace of a Pod's ServiceAccount.
const inClusterNamespaceFile = "/var/run/secrets/kubernetes.io/serviceaccount/namespace"

// kubeRuntime builds the Kubernetes runtime when containers.kubernetes
// names a cluster (a kubeconfig, or in_cluster): agents issued certificates
// by the server CA, requiring clientCert's CA (mutual TLS), containers
// scoped to this server's id in the configured namespace. It returns nil
// and no error when no cluster is configured, and an error of kind
// errdefs.ErrUnavailable, saying why, when the API server cannot be
// reached or refuses the server's identity.
func kubeRuntime(ctx context.Context, cfg config.Config, serverID string, ca *pki.CA, clientCert *tls.Certificate, log *slog.Logger) (*kube.Runtime, error) {
	k := cfg.Containers.Kubernetes
	if k.Kubeconfig == "" && !k.InCluster {
		return nil, nil
	}
	ns := k.Namespace
	if ns == "" && k.InCluster {
		if b, err := os.ReadFile(inClusterNamespaceFile); err == nil {
			ns = strings.TrimSpace(string(b))
		}
	}
	podLabels, err := config.ParseLabels(k.ServerPodLabels)
	if err != nil {
		return nil, errdefs.Invalidf("containers.kubernetes.server_pod_labels: %w", err)
	}
	selector, err := config.ParseLabels(k.GPUNodeSelector)
	if err != nil {
		return nil, errdefs.Invalidf("containers.kubernetes.gpu_node_selector: %w", err)
	}
	tols, err := config.ParseTolerations(k.GPUTolerations)
	if err != nil {
		return nil, errdefs.Invalidf("containers.kubernetes.gpu_tolerations: %w", err)
	}
	cidrs, err := config.ParseCIDRs(k.ServerCIDRs)
	if err != nil {
		return nil, errdefs.Invalidf("containers.kubernetes.server_cidrs: %w", err)
	}
	var tolerations []kube.Toleration
	for _, t := range tols {
		tolerations = append(tolerations, kube.Toleration{Key: t.Key, Operator: t.Operator, Value: t.Value, Effect: t.Effect})
	}
	kubeconfig := k.Kubeconfig
	if k.InCluster {
		kubeconfig = ""
	}
	rt, err := kube.New(kube.Config{
		Kubeconfig:      kubeconfig,
		Namespace:       ns,
		Issuer:          ca,
		Scope:           serverID,
		Python:          cfg.Containers.Python,
		RunAsUser:       k.RunAsUser,
		PlatformUser:    k.RunAsUser == 0,
		CertTTL:         cfg.Containers.AgentCertTTL,
		StartTimeout:    cfg.Containers.StartTimeout,
		RemoveGrace:     cfg.Containers.StopGrace,
		Logger:          log.With("runtime", "kubernetes"),
		ClientCAPEM:     ca.CertPEM(),
		ClientCert:      clientCert,
		Limits:          containerLimits(cfg),
		LimitsSetting:   "containers.limits",
		ServerPodLabels: podLabels,
		ServerNamespace: k.ServerNamespace,
		ServerCIDRs:     cidrs,
		GPUNodeSelector: selector,
		GPUTolerations:  tolerations,
		ImagePullPolicy: k.ImagePullPolicy,
		AgentRootSize:   k.AgentRootSize,
		StorageClass:    k.StorageClass,
		Endpoint:        k.Endpoint,
	})
	if err != nil {
		return nil, fmt.Errorf("kubernetes runtime: %w", err)
	}
	pctx, cancel := context.WithTimeout(ctx, kubePingTimeout)
	defer cancel()
	if err := rt.Ping(pctx); err != nil {
		if !errdefs.IsUnavailable(err) {
			err = errdefs.Unavailablef("%w", err)
		}
		return nil, err
	}
	log.Info("the kubernetes runtime is available", "namespace", rt.Namespace())
	return rt, nil
}
