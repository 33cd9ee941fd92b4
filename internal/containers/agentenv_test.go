package containers_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/dockyard/dockyard/internal/access"
	"github.com/dockyard/dockyard/internal/agent"
	"github.com/dockyard/dockyard/internal/containers"
	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/runtime"
	"github.com/dockyard/dockyard/internal/runtime/fake"
	"github.com/dockyard/dockyard/internal/store"
)

// envRuntime is the fake runtime plus StartWithEnv, recording each start's
// environment.
type envRuntime struct {
	*fake.Runtime
	mu   sync.Mutex
	envs []map[string]string
}

func (r *envRuntime) StartWithEnv(ctx context.Context, id string, env map[string]string) error {
	r.mu.Lock()
	r.envs = append(r.envs, env)
	r.mu.Unlock()
	return r.Start(ctx, id)
}

func (r *envRuntime) last() map[string]string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.envs) == 0 {
		return nil
	}
	return r.envs[len(r.envs)-1]
}

// fakeHEC keeps tokens by name.
type fakeHEC struct {
	mu      sync.Mutex
	n       int
	tokens  map[string]string // name -> secret
	indexes map[string][]string
}

func (f *fakeHEC) CreateHECToken(ctx context.Context, name string, indexes []string) (string, string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.n++
	secret := fmt.Sprintf("secret-%d-abcdef", f.n)
	f.tokens[name], f.indexes[name] = secret, indexes
	return secret, indexes[0], nil
}

func (f *fakeHEC) DeleteHECToken(ctx context.Context, name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.tokens[name]; !ok {
		return errdefs.NotFound("no token " + name)
	}
	delete(f.tokens, name)
	return nil
}

func (f *fakeHEC) secret(name string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.tokens[name]
}

type fakePrincipals map[string][]string

func (f fakePrincipals) EffectivePrincipal(ctx context.Context, user, app string) (*access.Principal, error) {
	ix, ok := f[user]
	if !ok {
		return nil, errdefs.NotFound("user " + user)
	}
	return &access.Principal{User: user, Indexes: ix}, nil
}

func TestHECTokenAndTraceEnvAtStart(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	rt := &envRuntime{Runtime: e.rt}
	hec := &fakeHEC{tokens: map[string]string{}, indexes: map[string][]string{}}
	e.opts.Runtimes = map[string]runtime.Runtime{"process": rt}
	e.opts.AgentEnv = func(context.Context) (map[string]string, error) {
		return map[string]string{agent.EnvTraceEndpoint: "http://127.0.0.1:4318", agent.EnvTraceToken: "otel-secret-xyz"}, nil
	}
	e.opts.HEC, e.opts.HECURL, e.opts.HECCAFile = hec, "https://127.0.0.1:8089/services/collector", "/data/pki/ca.pem"
	e.opts.Principals = fakePrincipals{"carol": {"_internal", "main", "web"}, "nobody": {"_internal"}}
	svc := e.newService(t)
	cu := principal("carol", access.RoleContainerUser)

	// Off: only the trace settings are passed.
	if _, err := svc.Start(ctx, cu, containers.StartRequest{Name: "box"}); err != nil {
		t.Fatal(err)
	}
	if env := rt.last(); env[agent.EnvTraceToken] != "otel-secret-xyz" || env[agent.EnvHECToken] != "" || len(hec.tokens) != 0 {
		t.Fatalf("HEC tokens off: env keys %v, tokens %v", keys(env), hec.tokens)
	}
	if _, err := svc.Stop(ctx, cu, "box"); err != nil {
		t.Fatal(err)
	}

	svc.SetHECTokens(true)
	c, err := svc.Start(ctx, cu, containers.StartRequest{Name: "box"})
	if err != nil {
		t.Fatal(err)
	}
	name := containers.HECTokenName(c)
	env := rt.last()
	first := hec.secret(name)
	if name != "container-box" || first == "" || env[agent.EnvHECToken] != first || env[agent.EnvHECURL] != e.opts.HECURL ||
		env[agent.EnvHECIndex] != "main" || env[agent.EnvHECCAFile] != "/data/pki/ca.pem" || env[agent.EnvTraceToken] == "" {
		t.Fatalf("HEC tokens on: token %q, env keys %v", name, keys(env))
	}
	if got := hec.indexes[name]; !slices.Equal(got, []string{"main", "web"}) {
		t.Errorf("token indexes = %v, want the owner's without _internal", got)
	}
	// Starting a running container changes nothing.
	if _, err := svc.Start(ctx, cu, containers.StartRequest{Name: "box"}); err != nil || hec.secret(name) != first {
		t.Errorf("restart of a running container replaced its token (%v)", err)
	}
	// Stop deletes it, a new start gets a new one, removal deletes it.
	if _, err := svc.Stop(ctx, cu, "box"); err != nil || hec.secret(name) != "" {
		t.Fatalf("after stop: token %t, %v", hec.secret(name) != "", err)
	}
	if _, err := svc.Start(ctx, cu, containers.StartRequest{Name: "box"}); err != nil {
		t.Fatal(err)
	}
	if second := hec.secret(name); second == "" || second == first || rt.last()[agent.EnvHECToken] != second {
		t.Errorf("second start: token %q (first %q)", second, first)
	}
	if err := svc.Remove(ctx, cu, "box"); err != nil || hec.secret(name) != "" {
		t.Fatalf("after remove: token %t, %v", hec.secret(name) != "", err)
	}

	// An owner who may search only _internal gets no token.
	if _, err := svc.Start(ctx, principal("nobody", access.RoleContainerUser), containers.StartRequest{Name: "bare"}); err != nil {
		t.Fatal(err)
	}
	if env := rt.last(); env[agent.EnvHECToken] != "" || len(hec.tokens) != 0 {
		t.Errorf("owner without writable indexes: env keys %v, tokens %v", keys(env), hec.tokens)
	}

	// No secret is audited.
	for _, ev := range e.audit.Events() {
		s := fmt.Sprintf("%+v", ev)
		if strings.Contains(s, "secret-") || strings.Contains(s, "otel-secret") {
			t.Errorf("audit event holds a secret: %s", s)
		}
	}
}

// A runtime that cannot pass a start environment gets no token at all.
func TestNoHECTokenWithoutEnvStarter(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	hec := &fakeHEC{tokens: map[string]string{}, indexes: map[string][]string{}}
	e.opts.HECTokens, e.opts.HEC, e.opts.HECURL = true, hec, "https://127.0.0.1:8089/services/collector"
	e.opts.Principals = fakePrincipals{"carol": {"main"}}
	svc := e.newService(t)
	if _, err := svc.Start(ctx, principal("carol", access.RoleContainerUser), containers.StartRequest{Name: "box"}); err != nil {
		t.Fatal(err)
	}
	if len(hec.tokens) != 0 {
		t.Errorf("tokens = %v, want none", hec.tokens)
	}
}

func TestHECTokenName(t *testing.T) {
	long := strings.Repeat("x", 100)
	for _, tc := range []struct {
		c    store.Container
		want string
	}{
		{store.Container{Name: "web"}, "container-web"},
		{store.Container{Name: containers.DevName, Scope: "alice"}, "container-dev-alice"},
	} {
		if got := containers.HECTokenName(tc.c); got != tc.want {
			t.Errorf("HECTokenName(%+v) = %q, want %q", tc.c, got, tc.want)
		}
	}
	a, b := containers.HECTokenName(store.Container{Name: long}), containers.HECTokenName(store.Container{Name: long + "y"})
	if len(a) > 64 || len(b) > 64 || a == b || !strings.HasPrefix(a, "container-xxx") {
		t.Errorf("long names: %q, %q", a, b)
	}
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
