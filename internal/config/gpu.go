package config

import (
	"fmt"
	"strings"
)

// ParseGPUDevices reads containers.gpu.docker_devices: GPU ids (indexes
// such as 0, or UUIDs such as GPU-8c4e…, as `nvidia-smi -L` shows them)
// separated by commas; "" lists none. An empty or repeated id is an error.
func ParseGPUDevices(s string) ([]string, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var out []string
	seen := map[string]bool{}
	for _, f := range strings.Split(s, ",") {
		id := strings.TrimSpace(f)
		switch {
		case id == "":
			return nil, fmt.Errorf("%q has an empty GPU id: give ids separated by commas, such as 0,1,2,3 or the UUIDs `nvidia-smi -L` shows", s)
		case strings.ContainsAny(id, " \t\"'"):
			return nil, fmt.Errorf("GPU id %q has a space or quote: give indexes (0,1) or UUIDs (GPU-…) separated by commas", id)
		case seen[id]:
			return nil, fmt.Errorf("GPU id %q is listed twice: each GPU once", id)
		}
		seen[id] = true
		out = append(out, id)
	}
	return out, nil
}

func gpuDeviceList(s string) string {
	if _, err := ParseGPUDevices(s); err != nil {
		return err.Error()
	}
	return ""
}
