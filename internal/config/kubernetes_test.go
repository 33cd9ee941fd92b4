package config_test

import (
	"reflect"
	"testing"

	"github.com/dockyard/dockyard/internal/config"
)

func TestKubernetesLists(t *testing.T) {
	labels, err := config.ParseLabels(" app.kubernetes.io/name=dockyard, tier=server ,empty= ")
	if err != nil || !reflect.DeepEqual(labels, map[string]string{"app.kubernetes.io/name": "dockyard", "tier": "server", "empty": ""}) {
		t.Errorf("ParseLabels = %v, %v", labels, err)
	}
	tols, err := config.ParseTolerations("nvidia.com/gpu:NoSchedule,dedicated=ml:NoExecute,any")
	want := []config.Toleration{
		{Key: "nvidia.com/gpu", Operator: "Exists", Effect: "NoSchedule"},
		{Key: "dedicated", Operator: "Equal", Value: "ml", Effect: "NoExecute"},
		{Key: "any", Operator: "Exists"},
	}
	if err != nil || !reflect.DeepEqual(tols, want) {
		t.Errorf("ParseTolerations = %+v, %v", tols, err)
	}
	cidrs, err := config.ParseCIDRs("10.0.0.5/32, fd00::/64")
	if err != nil || !reflect.DeepEqual(cidrs, []string{"10.0.0.5/32", "fd00::/64"}) {
		t.Errorf("ParseCIDRs = %v, %v", cidrs, err)
	}
	for _, bad := range []string{"=x", "a=b c", "UPPER.example/x=1"} {
		if _, err := config.ParseLabels(bad); err == nil {
			t.Errorf("ParseLabels(%q) accepted it", bad)
		}
	}
	ok := config.Default()
	ok.Containers.Runtime = "kubernetes"
	ok.Containers.Kubernetes.InCluster = true
	if err := ok.Validate(); err != nil {
		t.Errorf("kubernetes in the cluster: %v", err)
	}
}
