package runner

import (
	"strings"
	"testing"
)

func TestExplainMemory(t *testing.T) {
	const msg = "Traceback (most recent call last):\nMemoryError"
	t.Setenv(envContainer, "box")
	t.Setenv(EnvMemoryLimit, "")
	if got := explainMemory(msg); got != msg {
		t.Errorf("without a limit: %q, want the message unchanged", got)
	}
	t.Setenv(EnvMemoryLimit, "805306368")
	t.Setenv(EnvMemorySetting, "containers.limits.memory_bytes")
	got := explainMemory(msg)
	for _, want := range []string{`container "box"`, "768 MiB", "805306368 bytes", "containers.limits.memory_bytes", msg} {
		if !strings.Contains(got, want) {
			t.Errorf("explainMemory = %q, lacks %q", got, want)
		}
	}
	if other := "ValueError: boom"; explainMemory(other) != other {
		t.Errorf("a failure that is not about memory was changed: %q", explainMemory(other))
	}
}
