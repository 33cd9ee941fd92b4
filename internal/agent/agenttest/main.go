package agenttest

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/dockyard/dockyard/internal/agent"
)

// Main is the TestMain of a test binary that doubles as the agent (the
// os/exec helper-process pattern): run with DOCKYARD_TEST_AGENT=1 it is the
// agent, taking the arguments after "agent"; otherwise it runs the tests.
func Main(m *testing.M) {
	if os.Getenv("DOCKYARD_TEST_AGENT") == "1" {
		args := os.Args[1:]
		for i, a := range args {
			if a == "agent" {
				args = args[i+1:]
				break
			}
		}
		if err := agent.Main(context.Background(), args, os.Stderr); err != nil {
			fmt.Fprintln(os.Stderr, "agent:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}
