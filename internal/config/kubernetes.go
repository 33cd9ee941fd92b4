package config

import (
	"fmt"
	"net"
	"regexp"
	"strings"
)

// Toleration is one of containers.kubernetes.gpu_tolerations:
// KEY[=VALUE]:EFFECT, KEY alone (Operator Exists) tolerating any value.
type Toleration struct {
	Key, Operator, Value, Effect string
}

var (
	labelKeyRE   = regexp.MustCompile(`^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$`)
	labelValueRE = regexp.MustCompile(`^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$`)
)

// ParseLabels parses k=v,k=v (a Kubernetes label set); "" is none.
func ParseLabels(s string) (map[string]string, error) {
	out := map[string]string{}
	for _, kv := range strings.Split(s, ",") {
		kv = strings.TrimSpace(kv)
		if kv == "" {
			continue
		}
		k, v, ok := strings.Cut(kv, "=")
		if !ok || !labelKeyRE.MatchString(k) || !labelValueRE.MatchString(v) {
			return nil, fmt.Errorf("%q is not a label KEY=VALUE (such as app.kubernetes.io/name=dockyard)", kv)
		}
		out[k] = v
	}
	return out, nil
}

// ParseTolerations parses KEY[=VALUE]:EFFECT,...; "" is none.
func ParseTolerations(s string) ([]Toleration, error) {
	var out []Toleration
	for _, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		kv, effect, _ := strings.Cut(item, ":")
		switch effect {
		case "", "NoSchedule", "PreferNoSchedule", "NoExecute":
		default:
			return nil, fmt.Errorf("%q: effect %q is not NoSchedule, PreferNoSchedule or NoExecute", item, effect)
		}
		k, v, hasValue := strings.Cut(kv, "=")
		if !labelKeyRE.MatchString(k) || hasValue && !labelValueRE.MatchString(v) {
			return nil, fmt.Errorf("%q is not KEY[=VALUE]:EFFECT (such as nvidia.com/gpu:NoSchedule)", item)
		}
		t := Toleration{Key: k, Operator: "Exists", Effect: effect}
		if hasValue {
			t.Operator, t.Value = "Equal", v
		}
		out = append(out, t)
	}
	return out, nil
}

// ParseCIDRs parses comma-separated CIDRs; "" is none.
func ParseCIDRs(s string) ([]string, error) {
	var out []string
	for _, c := range strings.Split(s, ",") {
		c = strings.TrimSpace(c)
		if c == "" {
			continue
		}
		if _, _, err := net.ParseCIDR(c); err != nil {
			return nil, fmt.Errorf("%q is not an address range such as 10.0.0.5/32", c)
		}
		out = append(out, c)
	}
	return out, nil
}

func labelList(s string) string {
	if _, err := ParseLabels(s); err != nil {
		return err.Error()
	}
	return ""
}

func tolerationList(s string) string {
	if _, err := ParseTolerations(s); err != nil {
		return err.Error()
	}
	return ""
}

func cidrList(s string) string {
	if _, err := ParseCIDRs(s); err != nil {
		return err.Error()
	}
	return ""
}

// kubeCluster refuses containers.runtime kubernetes without a cluster.
func kubeCluster(runtime string, k Kubernetes) string {
	if runtime == "kubernetes" && k.Kubeconfig == "" && !k.InCluster {
		return "containers.runtime is kubernetes but no cluster is named: set containers.kubernetes.kubeconfig, or containers.kubernetes.in_cluster when the server runs in the cluster"
	}
	return ""
}
