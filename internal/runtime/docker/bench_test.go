package docker_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/dockyard/dockyard/internal/agent/agenttest"
	"github.com/dockyard/dockyard/internal/runtime"
)

// BenchmarkCreateStartRemove measures one container's whole life: create
// (certificate, token, files copied in), start until the agent answers
// /healthz over TLS, and remove.
func BenchmarkCreateStartRemove(b *testing.B) {
	rt := newRuntime(b, agenttest.NewCA(b), newScope(), nil)
	img := testImage(b)
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		spec := runtime.Spec{Name: fmt.Sprintf("bench-%d", i), Image: img, Labels: map[string]string{labelTestRun: runID},
			Files: map[string][]byte{"notebooks/nb.py": []byte("x = 1\n")}}
		c, err := rt.Create(ctx, spec)
		if err != nil {
			b.Fatal(err)
		}
		if err := rt.Start(ctx, c.ID); err != nil {
			b.Fatal(err)
		}
		if err := rt.Remove(ctx, c.ID); err != nil {
			b.Fatal(err)
		}
	}
}
