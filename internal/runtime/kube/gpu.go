package kube

import (
	"context"
	"sort"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/dockyard/dockyard/internal/runtime"
)

// GPUs implements runtime.GPUInventory: every node (of the GPU node
// selector, when one is configured) with a capacity of nvidia.com/gpu,
// with its capacity and allocatable count. Nodes are cluster-scoped: the
// server's identity needs get and list on nodes (its ClusterRole).
func (r *Runtime) GPUs(ctx context.Context) ([]runtime.GPUPool, error) {
	opts := metav1.ListOptions{}
	if len(r.cfg.GPUNodeSelector) > 0 {
		opts.LabelSelector = labels.SelectorFromSet(r.cfg.GPUNodeSelector).String()
	}
	nodes, err := r.cs.CoreV1().Nodes().List(ctx, opts)
	if err != nil {
		return nil, r.wrap("listing the cluster's nodes for their GPUs", err)
	}
	var out []runtime.GPUPool
	for _, n := range nodes.Items {
		capQ, hasCap := n.Status.Capacity[GPUResource]
		allocQ, hasAlloc := n.Status.Allocatable[GPUResource]
		if (!hasCap || capQ.IsZero()) && (!hasAlloc || allocQ.IsZero()) {
			continue
		}
		p := runtime.GPUPool{Runtime: "kubernetes", Node: n.Name, Resource: GPUResource, Capacity: -1, Allocatable: -1}
		if hasCap {
			p.Capacity = int(capQ.Value())
		}
		if hasAlloc {
			p.Allocatable = int(allocQ.Value())
		}
		if model := n.Labels["nvidia.com/gpu.product"]; model != "" {
			p.Devices = []string{model}
		}
		if !nodeReady(n) {
			p.Allocatable = 0
		}
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Node < out[j].Node })
	return out, nil
}

func nodeReady(n corev1.Node) bool {
	if n.Spec.Unschedulable {
		return false
	}
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}
