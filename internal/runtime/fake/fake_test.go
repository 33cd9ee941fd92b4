package fake_test

import (
	"testing"

	"github.com/dockyard/dockyard/internal/runtime"
	"github.com/dockyard/dockyard/internal/runtime/fake"
	"github.com/dockyard/dockyard/internal/runtime/runtimetest"
)

func TestConformance(t *testing.T) {
	runtimetest.Run(t,
		func(t *testing.T) runtime.Runtime { return fake.New() },
		func(t *testing.T, name string) runtime.Spec { return runtime.Spec{Name: name, Image: "fake:1"} })
}
