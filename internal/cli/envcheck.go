package cli

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/dockyard/dockyard/internal/agent"
	"github.com/dockyard/dockyard/internal/agent/runner"
	"github.com/dockyard/dockyard/internal/config"
	"github.com/dockyard/dockyard/internal/secrets"
)

// The DOCKYARD_* environment variables Dockyard reads. A variable with the
// prefix that is none of these is warned about at start, since a misspelt
// one would otherwise be ignored without a word. TestEnvKnownCoversTree
// fails when the tree names a variable this list lacks.
var (
	// knownEnv are the variables that are not configuration keys (those
	// come from config.Describe).
	knownEnv = []string{
		// The client (root.go).
		"DOCKYARD_SERVER", "DOCKYARD_CA_FILE", "DOCKYARD_TOKEN", "DOCKYARD_CONFIG_DIR", "DOCKYARD_APP",
		// The server.
		"DOCKYARD_ADMIN_PASSWORD", secrets.EnvKey,
		// The agent and what the runtimes give it and its notebooks.
		"DOCKYARD_AGENT_TOKEN", "DOCKYARD_AGENT_PYTHON",
		agent.EnvTraceEndpoint, agent.EnvTraceToken, agent.EnvTraceTokenHeader, agent.EnvTraceServiceName,
		agent.EnvHECURL, agent.EnvHECToken, agent.EnvHECIndex, agent.EnvHECCAFile, agent.EnvContainer,
		runner.EnvMemoryLimit, runner.EnvMemorySetting,
	}
	// testEnvPrefixes start the variables only tests and benchmarks read.
	testEnvPrefixes = []string{
		"DOCKYARD_TEST_", "DOCKYARD_BENCH_", "DOCKYARD_LOAD_", "DOCKYARD_CRASH_SEED", "DOCKYARD_DOCKER_TEST_IMAGE",
	}
)

// knownEnvVars lists every DOCKYARD_* variable Dockyard reads, tests aside.
func knownEnvVars() []string {
	out := slices.Clone(knownEnv)
	for _, k := range config.Describe() {
		out = append(out, k.Env)
	}
	return out
}

// unknownEnv returns a warning line for each DOCKYARD_* variable of
// environ ("KEY=value" entries) that Dockyard does not read, in name order.
func unknownEnv(environ []string) []string {
	known := knownEnvVars()
	var lines []string
	for _, kv := range environ {
		name, _, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(name, config.EnvPrefix) || slices.Contains(known, name) || testEnv(name) {
			continue
		}
		line := name + " is not a Dockyard setting"
		if near := nearest(name, known); near != "" {
			line += "; did you mean " + near + "?"
		} else {
			line += " (see docs/configuration.md)"
		}
		lines = append(lines, line)
	}
	slices.Sort(lines)
	return slices.Compact(lines)
}

// warnUnknownEnv prints unknownEnv's lines to w.
func warnUnknownEnv(w io.Writer, environ []string) {
	for _, l := range unknownEnv(environ) {
		fmt.Fprintln(w, "warning:", l)
	}
}

func testEnv(name string) bool {
	for _, p := range testEnvPrefixes {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

// nearest returns the known name closest to name when it is close enough
// to be a misspelling of it (at most two edits, and fewer than half the
// letters after the prefix), else "".
func nearest(name string, known []string) string {
	suffix := strings.TrimPrefix(name, config.EnvPrefix)
	best, bestD := "", 3
	for _, k := range known {
		d := editDistance(suffix, strings.TrimPrefix(k, config.EnvPrefix))
		if d < bestD && 2*d < len(suffix) {
			best, bestD = k, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b (bytes).
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
