// Package runtimetest is the conformance suite every runtime.Runtime passes.
//
// A backend's test calls
//
//	runtimetest.Run(t, func(t *testing.T) runtime.Runtime { ... }, specFor)
//
// where specFor returns a spec that the backend can start (an image it has,
// for example) with the given name; the suite adds its own labels.
package runtimetest

import (
	"context"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/runtime"
)

// Run runs the suite. newRuntime is called once per subtest and must return
// a fresh, empty runtime.
func Run(t *testing.T, newRuntime func(t *testing.T) runtime.Runtime, specFor func(t *testing.T, name string) runtime.Spec) {
	t.Helper()
	for _, tc := range []struct {
		name string
		fn   func(t *testing.T, rt runtime.Runtime, specFor func(t *testing.T, name string) runtime.Spec)
	}{
		{"CreateInspect", testCreateInspect},
		{"InvalidSpec", testInvalidSpec},
		{"DuplicateName", testDuplicateName},
		{"Lifecycle", testLifecycle},
		{"ListByLabels", testListByLabels},
		{"RemoveRunning", testRemoveRunning},
		{"NotFound", testNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.fn(t, newRuntime(t), specFor)
		})
	}
}

// ctxT bounds one runtime call. The bound is generous on purpose: on a
// loaded two-core machine a Docker create that builds the agent image, or an
// inspect queued behind it, can take over a minute, and a conformance test
// must not fail for that.
func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func mustCreate(t *testing.T, rt runtime.Runtime, spec runtime.Spec) runtime.Container {
	t.Helper()
	c, err := rt.Create(ctxT(t), spec)
	if err != nil {
		t.Fatalf("Create(%q): %v", spec.Name, err)
	}
	t.Cleanup(func() { _ = rt.Remove(context.Background(), c.ID) })
	return c
}

func labeled(t *testing.T, specFor func(*testing.T, string) runtime.Spec, name string, labels map[string]string) runtime.Spec {
	s := specFor(t, name)
	if s.Labels == nil {
		s.Labels = map[string]string{}
	}
	for k, v := range labels {
		s.Labels[k] = v
	}
	return s
}

func testCreateInspect(t *testing.T, rt runtime.Runtime, specFor func(*testing.T, string) runtime.Spec) {
	ctx := ctxT(t)
	spec := labeled(t, specFor, "rtt-create", map[string]string{runtime.LabelOwner: "alice", runtime.LabelModel: "M"})
	c := mustCreate(t, rt, spec)
	if c.ID == "" || c.Name != spec.Name || c.State != runtime.StateCreated {
		t.Fatalf("Create = %+v, want an id, name %q and state created", c, spec.Name)
	}
	if c.Created.IsZero() {
		t.Errorf("Create: Created is zero")
	}
	got, err := rt.Inspect(ctx, c.ID)
	if err != nil {
		t.Fatalf("Inspect: %v", err)
	}
	if got.ID != c.ID || got.Name != c.Name || got.Image != spec.Image || got.State != runtime.StateCreated {
		t.Errorf("Inspect = %+v, want %+v", got, c)
	}
	for k, v := range spec.Labels {
		if got.Labels[k] != v {
			t.Errorf("label %s = %q, want %q", k, got.Labels[k], v)
		}
	}
	if got.Labels[runtime.LabelManaged] != "true" {
		t.Errorf("label %s = %q, want \"true\"", runtime.LabelManaged, got.Labels[runtime.LabelManaged])
	}
}

func testInvalidSpec(t *testing.T, rt runtime.Runtime, specFor func(*testing.T, string) runtime.Spec) {
	for _, tc := range []struct {
		name string
		mod  func(s *runtime.Spec)
	}{
		{"empty name", func(s *runtime.Spec) { s.Name = "" }},
		{"slash in name", func(s *runtime.Spec) { s.Name = "a/b" }},
		{"file escapes root", func(s *runtime.Spec) { s.Files = map[string][]byte{"../x": []byte("x")} }},
		{"absolute file", func(s *runtime.Spec) { s.Files = map[string][]byte{"/etc/x": []byte("x")} }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := specFor(t, "rtt-invalid")
			tc.mod(&s)
			c, err := rt.Create(ctxT(t), s)
			if err == nil {
				_ = rt.Remove(context.Background(), c.ID)
				t.Fatalf("Create accepted an invalid spec (%s)", tc.name)
			}
			if !errdefs.IsInvalid(err) {
				t.Errorf("Create error = %v, want kind invalid", err)
			}
		})
	}
}

func testDuplicateName(t *testing.T, rt runtime.Runtime, specFor func(*testing.T, string) runtime.Spec) {
	mustCreate(t, rt, specFor(t, "rtt-dup"))
	c, err := rt.Create(ctxT(t), specFor(t, "rtt-dup"))
	if err == nil {
		_ = rt.Remove(context.Background(), c.ID)
		t.Fatal("second Create with the same name succeeded")
	}
	if !errdefs.IsConflict(err) {
		t.Errorf("second Create error = %v, want kind conflict", err)
	}
}

func testLifecycle(t *testing.T, rt runtime.Runtime, specFor func(*testing.T, string) runtime.Spec) {
	ctx := ctxT(t)
	c := mustCreate(t, rt, specFor(t, "rtt-life"))
	for i := 0; i < 2; i++ { // Start is idempotent
		if err := rt.Start(ctx, c.ID); err != nil {
			t.Fatalf("Start #%d: %v", i+1, err)
		}
	}
	got, err := rt.Inspect(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.State != runtime.StateRunning || got.Endpoint == "" || got.Started.IsZero() {
		t.Fatalf("after Start: %+v, want running with an endpoint and a start time", got)
	}
	for i := 0; i < 2; i++ { // Stop is idempotent
		if err := rt.Stop(ctx, c.ID, 5*time.Second); err != nil {
			t.Fatalf("Stop #%d: %v", i+1, err)
		}
	}
	got, err = rt.Inspect(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.State != runtime.StateExited {
		t.Fatalf("after Stop: state %q, want exited", got.State)
	}
	rc, err := rt.Logs(ctx, c.ID, time.Time{})
	if err != nil {
		t.Fatalf("Logs: %v", err)
	}
	if _, err := io.ReadAll(rc); err != nil {
		t.Errorf("reading logs: %v", err)
	}
	rc.Close()
	// A stopped container starts again.
	if err := rt.Start(ctx, c.ID); err != nil {
		t.Fatalf("Start after Stop: %v", err)
	}
	if got, _ := rt.Inspect(ctx, c.ID); got.State != runtime.StateRunning {
		t.Fatalf("after restart: state %q, want running", got.State)
	}
	if err := rt.Remove(ctx, c.ID); err != nil {
		t.Fatalf("Remove: %v", err)
	}
	if _, err := rt.Inspect(ctx, c.ID); !errdefs.IsNotFound(err) {
		t.Errorf("Inspect after Remove: %v, want kind not found", err)
	}
}

func testListByLabels(t *testing.T, rt runtime.Runtime, specFor func(*testing.T, string) runtime.Spec) {
	ctx := ctxT(t)
	for i, owner := range []string{"alice", "bob", "alice"} {
		mustCreate(t, rt, labeled(t, specFor, fmt.Sprintf("rtt-list-%d", i), map[string]string{runtime.LabelOwner: owner, runtime.LabelServerID: "srv1"}))
	}
	for _, tc := range []struct {
		labels map[string]string
		want   []string
	}{
		{nil, []string{"rtt-list-0", "rtt-list-1", "rtt-list-2"}},
		{map[string]string{runtime.LabelOwner: "alice"}, []string{"rtt-list-0", "rtt-list-2"}},
		{map[string]string{runtime.LabelOwner: "bob", runtime.LabelServerID: "srv1"}, []string{"rtt-list-1"}},
		{map[string]string{runtime.LabelManaged: "true", runtime.LabelOwner: "carol"}, nil},
	} {
		got, err := rt.List(ctx, tc.labels)
		if err != nil {
			t.Fatalf("List(%v): %v", tc.labels, err)
		}
		var names []string
		for _, c := range got {
			if strings.HasPrefix(c.Name, "rtt-list-") {
				names = append(names, c.Name)
			}
		}
		if strings.Join(sorted(names), ",") != strings.Join(tc.want, ",") {
			t.Errorf("List(%v) = %v, want %v", tc.labels, names, tc.want)
		}
	}
}

func sorted(s []string) []string {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
	return s
}

func testRemoveRunning(t *testing.T, rt runtime.Runtime, specFor func(*testing.T, string) runtime.Spec) {
	ctx := ctxT(t)
	c, err := rt.Create(ctx, specFor(t, "rtt-rm"))
	if err != nil {
		t.Fatal(err)
	}
	if err := rt.Start(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	if err := rt.Remove(ctx, c.ID); err != nil {
		t.Fatalf("Remove of a running container: %v", err)
	}
	list, err := rt.List(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range list {
		if x.ID == c.ID {
			t.Errorf("List still shows removed container %s", c.ID)
		}
	}
	// The name is free again.
	mustCreate(t, rt, specFor(t, "rtt-rm"))
}

func testNotFound(t *testing.T, rt runtime.Runtime, _ func(*testing.T, string) runtime.Spec) {
	ctx := ctxT(t)
	const id = "no-such-container"
	checks := map[string]error{
		"Start":  rt.Start(ctx, id),
		"Stop":   rt.Stop(ctx, id, time.Second),
		"Remove": rt.Remove(ctx, id),
	}
	_, checks["Inspect"] = rt.Inspect(ctx, id)
	_, checks["Logs"] = rt.Logs(ctx, id, time.Time{})
	for op, err := range checks {
		if !errdefs.IsNotFound(err) {
			t.Errorf("%s(unknown id) = %v, want kind not found", op, err)
		}
	}
}

// CheckAgentLogs checks the logs of c, a container that has run the agent:
// they hold the agent's output but not its token, and none of them is
// later than an hour from now.
func CheckAgentLogs(t *testing.T, rt runtime.Runtime, c runtime.Container) {
	t.Helper()
	ctx := ctxT(t)
	rc, err := rt.Logs(ctx, c.ID, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	logs, _ := io.ReadAll(rc)
	rc.Close()
	if !strings.Contains(string(logs), "agent listening") || strings.Contains(string(logs), c.Token) {
		t.Errorf("logs: want the agent's output without its token, got:\n%s", logs)
	}
	rc, err = rt.Logs(ctx, c.ID, time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if future, _ := io.ReadAll(rc); len(future) != 0 {
		t.Errorf("Logs since a future time = %q, want nothing", future)
	}
	rc.Close()
}
