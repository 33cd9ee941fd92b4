package runner

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// The variables a runtime sets on the agent to name the container's
// memory limit (bytes) and where it is configured; the runner inherits
// them.
const (
	EnvMemoryLimit   = "DOCKYARD_MEMORY_LIMIT"
	EnvMemorySetting = "DOCKYARD_MEMORY_LIMIT_SETTING"
	envContainer     = "DOCKYARD_CONTAINER"
)

// outOfMemory are the words of a notebook (or interpreter) that ran out of
// memory: Python's MemoryError (numpy's "Unable to allocate" is one), a
// C library's allocation failure, or a runner killed (by the kernel's OOM
// killer, as under Docker's memory limit).
var outOfMemory = []string{"MemoryError", "Unable to allocate", "Cannot allocate memory", "out of memory", "signal: killed"}

// explainMemory prefixes msg, when it tells of memory running out in a
// container with a memory limit, with the container, the limit and the
// setting that sets it.
func explainMemory(msg string) string {
	lim, err := strconv.ParseInt(os.Getenv(EnvMemoryLimit), 10, 64)
	if err != nil || lim <= 0 {
		return msg
	}
	hit := false
	for _, w := range outOfMemory {
		hit = hit || strings.Contains(msg, w)
	}
	if !hit {
		return msg
	}
	setting := os.Getenv(EnvMemorySetting)
	if setting == "" {
		setting = "the container's memory limit"
	}
	return fmt.Sprintf("container %q ran out of memory (or was killed): it may use %s (%d bytes) per process, set by %s; raise it or give the notebook less data: %s",
		os.Getenv(envContainer), mib(lim), lim, setting, msg)
}

func mib(n int64) string {
	if n >= 1<<30 && n%(1<<30) == 0 {
		return fmt.Sprintf("%d GiB", n>>30)
	}
	return fmt.Sprintf("%.0f MiB", float64(n)/(1<<20))
}
