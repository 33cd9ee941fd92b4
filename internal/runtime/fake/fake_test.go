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

func TestIsolated(t *testing.T) {
	r := fake.New()
	if ok, why := runtime.IsIsolated(r); !ok || why != "" {
		t.Errorf("a new fake: IsIsolated = %v, %q; want isolated", ok, why)
	}
	r.SetIsolated(false, "install bubblewrap")
	if ok, why := runtime.IsIsolated(r); ok || why != "install bubblewrap" {
		t.Errorf("after SetIsolated(false): IsIsolated = %v, %q", ok, why)
	}
	r.SetIsolated(true, "")
	if ok, _ := runtime.IsIsolated(r); !ok {
		t.Errorf("after SetIsolated(true): not isolated")
	}
}
