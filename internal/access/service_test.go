package access

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/store"
	"github.com/dockyard/dockyard/internal/store/sqlite"
)

type tWriter struct{ t testing.TB }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

type fixture struct {
	svc   *Service
	st    store.Store
	clock *fakeClock
	ctx   context.Context
}

const (
	sessionTTL     = 8 * time.Hour
	apiTokenMaxTTL = 8760 * time.Hour
)

// newFixture returns a bootstrapped Service on a fresh SQLite store, with
// admin's password "admin-password".
func newFixture(t testing.TB) *fixture {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "dockyard.db"))
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	c := newFakeClock()
	svc, err := NewService(db, Options{SessionTTL: sessionTTL, APITokenMaxTTL: apiTokenMaxTTL, Password: testParams, Throttle: testThrottle, Clock: c.Now},
		slog.New(slog.NewTextHandler(tWriter{t}, nil)))
	if err != nil {
		t.Fatalf("NewService: %v", err)
	}
	if _, _, err := svc.Bootstrap(ctx, "admin-password"); err != nil {
		t.Fatalf("Bootstrap: %v", err)
	}
	return &fixture{svc: svc, st: db, clock: c, ctx: ctx}
}

func (f *fixture) addUser(t *testing.T, name string, roles ...string) {
	t.Helper()
	if _, err := f.svc.AddUser(f.ctx, NewUser{Name: name, Password: name + "-password", Roles: roles}); err != nil {
		t.Fatalf("AddUser(%s): %v", name, err)
	}
}

func (f *fixture) login(t *testing.T, name string) (*Principal, string) {
	t.Helper()
	secret, _, err := f.svc.Login(f.ctx, name, name+"-password", "192.0.2.1:1234")
	if err != nil {
		t.Fatalf("Login(%s): %v", name, err)
	}
	p, err := f.svc.Authenticate(f.ctx, secret, "")
	if err != nil {
		t.Fatalf("Authenticate(%s): %v", name, err)
	}
	return p, secret
}

func TestNewServiceValidates(t *testing.T) {
	good := Options{SessionTTL: time.Hour, Password: testParams, Throttle: testThrottle}
	for name, mut := range map[string]func(*Options){
		"ttl":      func(o *Options) { o.SessionTTL = 0 },
		"max ttl":  func(o *Options) { o.APITokenMaxTTL = -1 },
		"params":   func(o *Options) { o.Password = Params{} },
		"throttle": func(o *Options) { o.Throttle = ThrottleOptions{} },
	} {
		o := good
		mut(&o)
		if _, err := NewService(nil, o, nil); !errdefs.IsInvalid(err) {
			t.Errorf("NewService with bad %s: error = %v, want ErrInvalid", name, err)
		}
	}
}

func TestBootstrapTwice(t *testing.T) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "dockyard.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	opts := Options{SessionTTL: time.Hour, Password: testParams, Throttle: testThrottle}
	svc, err := NewService(db, opts, nil)
	if err != nil {
		t.Fatal(err)
	}
	gen, created, err := svc.Bootstrap(ctx, "")
	if err != nil || !created || len(gen) < 20 {
		t.Fatalf("first Bootstrap = %q, %v, %v; want a generated password and created", gen, created, err)
	}
	if _, _, err := svc.Login(ctx, AdminUser, gen, ""); err != nil {
		t.Fatalf("login with generated password: %v", err)
	}
	u, _ := db.GetUser(ctx, AdminUser)
	if strings.Contains(u.PasswordHash, gen) || !strings.HasPrefix(u.PasswordHash, "$argon2id$") {
		t.Fatalf("stored admin password is not an argon2id hash")
	}
	// A second start (a new Service on the same store) keeps the admin.
	svc2, _ := NewService(db, opts, nil)
	gen2, created2, err := svc2.Bootstrap(ctx, "other-password")
	if err != nil || created2 || gen2 != "" {
		t.Fatalf("second Bootstrap = %q, %v, %v; want nothing created or generated", gen2, created2, err)
	}
	if _, _, err := svc2.Login(ctx, AdminUser, gen, ""); err != nil {
		t.Fatalf("login with the first password after second bootstrap: %v", err)
	}
	if _, _, err := svc2.Login(ctx, AdminUser, "other-password", ""); !errdefs.IsUnauthenticated(err) {
		t.Fatalf("second bootstrap's password works: %v", err)
	}
	roles, _ := svc2.ListRoles(ctx)
	if len(roles) != len(BuiltinRoles()) {
		t.Fatalf("%d roles after two bootstraps, want %d", len(roles), len(BuiltinRoles()))
	}
}

func TestBootstrapGivenPassword(t *testing.T) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "dockyard.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	svc, _ := NewService(db, Options{SessionTTL: time.Hour, Password: testParams, Throttle: testThrottle}, nil)
	if _, _, err := svc.Bootstrap(ctx, "short"); !errdefs.IsInvalid(err) {
		t.Fatalf("Bootstrap with a short password: error = %v, want ErrInvalid", err)
	}
	gen, created, err := svc.Bootstrap(ctx, "a-good-password")
	if err != nil || !created || gen != "" {
		t.Fatalf("Bootstrap = %q, %v, %v; want created, nothing generated", gen, created, err)
	}
	if _, _, err := svc.Login(ctx, AdminUser, "a-good-password", ""); err != nil {
		t.Fatalf("login: %v", err)
	}
}

func TestLoginSameErrorForUnknownUserAndWrongPassword(t *testing.T) {
	f := newFixture(t)
	f.addUser(t, "alice", RoleUser)
	_, _, errUnknown := f.svc.Login(f.ctx, "mallory", "whatever-password", "")
	_, _, errWrong := f.svc.Login(f.ctx, "alice", "wrong-password", "")
	if !errdefs.IsUnauthenticated(errUnknown) || !errdefs.IsUnauthenticated(errWrong) {
		t.Fatalf("errors %v / %v are not ErrUnauthenticated", errUnknown, errWrong)
	}
	if errUnknown.Error() != errWrong.Error() || errWrong.Error() != "invalid user name or password" {
		t.Fatalf("unknown user %q and wrong password %q answer differently", errUnknown, errWrong)
	}
	// An unknown user is checked against a hash of the same cost as a real one.
	if NeedsRehash(f.svc.dummyHash, testParams) {
		t.Fatalf("dummy hash %q does not use the service's parameters", f.svc.dummyHash)
	}
	// A user without a password cannot log in, with the same answer.
	u, _ := f.st.GetUser(f.ctx, "alice")
	u.PasswordHash = ""
	if err := f.st.UpdateUser(f.ctx, u); err != nil {
		t.Fatal(err)
	}
	for _, pw := range []string{"", "alice-password"} {
		if _, _, err := f.svc.Login(f.ctx, "alice", pw, ""); err == nil || err.Error() != errWrong.Error() {
			t.Fatalf("login without a stored password (%q): %v", pw, err)
		}
	}
}

func TestLoginThrottled(t *testing.T) {
	f := newFixture(t)
	f.addUser(t, "alice", RoleUser)
	for i := 0; i < 5; i++ {
		if _, _, err := f.svc.Login(f.ctx, "alice", "wrong-password", "192.0.2.9:1"); !errdefs.IsUnauthenticated(err) {
			t.Fatalf("failure %d: %v", i+1, err)
		}
	}
	// Even the right password is refused during the wait, unchecked.
	_, _, err := f.svc.Login(f.ctx, "alice", "alice-password", "198.51.100.1:1")
	if !errdefs.IsLimit(err) || !strings.Contains(err.Error(), `too many failed logins for user "alice"; try again in 1s`) {
		t.Fatalf("login during the wait: %v; want ErrLimit", err)
	}
	// The address is throttled for other users too.
	if _, _, err := f.svc.Login(f.ctx, "admin", "admin-password", "192.0.2.9:2"); !errdefs.IsLimit(err) {
		t.Fatalf("login from a throttled address: %v; want ErrLimit", err)
	}
	f.clock.Advance(2 * time.Second)
	if _, _, err := f.svc.Login(f.ctx, "alice", "alice-password", "198.51.100.1:1"); err != nil {
		t.Fatalf("login after the wait: %v", err)
	}
	// The success reset alice's count: four failures bring no wait.
	for i := 0; i < 4; i++ {
		f.svc.Login(f.ctx, "alice", "wrong-password", "")
	}
	if _, _, err := f.svc.Login(f.ctx, "alice", "alice-password", ""); err != nil {
		t.Fatalf("login after reset and 4 failures: %v", err)
	}
}

func TestEffectivePrincipalBuiltins(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		role     string
		caps     []Capability
		indexes  []string
		internal bool
	}{
		{RoleUser, []Capability{CapSearch, CapEditOwnTokens}, []string{IndexMain}, false},
		{RolePower, []Capability{CapSearch, CapEditOwnTokens, CapListContainer, CapPublishNotebooks}, []string{IndexMain}, false},
		{RoleContainerUser, []Capability{CapSearch, CapEditOwnTokens, CapListContainer, CapControlContainer}, []string{IndexMain}, false},
		{RoleContainerAdmin, []Capability{CapSearch, CapEditOwnTokens, CapListContainer, CapControlContainer, CapConfigureContainer, CapPublishNotebooks}, []string{IndexMain}, false},
		{RoleAdmin, AllCapabilities(), []string{"*", IndexInternal}, true},
	}
	for _, tc := range tests {
		name := "u_" + tc.role
		f.addUser(t, name, tc.role)
		p, err := f.svc.EffectivePrincipal(f.ctx, name, "")
		if err != nil {
			t.Fatalf("EffectivePrincipal(%s): %v", name, err)
		}
		want := CapSet{}
		for _, c := range tc.caps {
			want[c] = true
		}
		if !slices.Equal(p.Caps.Sorted(), want.Sorted()) || !slices.Equal(p.Indexes, tc.indexes) ||
			p.CanSearchIndex(IndexInternal) != tc.internal || p.App != DefaultApp {
			t.Errorf("role %s: caps %v indexes %v app %q; want caps %v indexes %v internal=%v",
				tc.role, p.Caps.Sorted(), p.Indexes, p.App, want.Sorted(), tc.indexes, tc.internal)
		}
	}
	if _, err := f.svc.EffectivePrincipal(f.ctx, "u_user", "dsdl"); !IsAppNotFound(err) {
		t.Errorf("EffectivePrincipal in a missing app: %v, want app not found", err)
	}
	if _, err := f.svc.CreateApp(f.ctx, "dsdl", nil, nil, "admin"); err != nil {
		t.Fatal(err)
	}
	if p, err := f.svc.EffectivePrincipal(f.ctx, "u_user", "dsdl"); err != nil || p.App != "dsdl" {
		t.Errorf("app = %v, %v; want the requested dsdl", p, err)
	}
	if _, err := f.svc.EffectivePrincipal(f.ctx, "nobody", ""); !errdefs.IsNotFound(err) {
		t.Errorf("EffectivePrincipal(unknown) error = %v, want ErrNotFound", err)
	}
}

func TestRoleInheritance(t *testing.T) {
	f := newFixture(t)
	add := func(name string, caps, inherit, indexes []string) error {
		_, err := f.svc.AddRole(f.ctx, store.Role{Name: name, Capabilities: caps, Inherit: inherit, SearchIndexes: indexes})
		return err
	}
	if err := add("a", []string{"use_gpu"}, nil, []string{"gpu_metrics"}); err != nil {
		t.Fatal(err)
	}
	if err := add("b", []string{"read_audit"}, []string{"a"}, []string{"web"}); err != nil {
		t.Fatal(err)
	}
	if err := add("c", nil, []string{"b", "user"}, nil); err != nil {
		t.Fatal(err)
	}
	f.addUser(t, "carol", "c")
	p, err := f.svc.EffectivePrincipal(f.ctx, "carol", "")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"edit_tokens_own", "read_audit", "search", "use_gpu"}; !slices.Equal(p.Caps.Sorted(), want) {
		t.Errorf("caps = %v, want %v (transitive)", p.Caps.Sorted(), want)
	}
	if want := []string{"gpu_metrics", "main", "web"}; !slices.Equal(p.Indexes, want) {
		t.Errorf("indexes = %v, want %v", p.Indexes, want)
	}
	if want := []string{"a", "b", "c", "user"}; !slices.Equal(p.Roles, want) {
		t.Errorf("roles = %v, want %v", p.Roles, want)
	}

	tests := []struct {
		name    string
		do      func() error
		kind    error
		message string
	}{
		{"cycle", func() error {
			_, err := f.svc.UpdateRole(f.ctx, store.Role{Name: "a", Inherit: []string{"c"}})
			return err
		}, errdefs.ErrInvalid, `role "a" would make an inheritance cycle: a -> c -> b -> a`},
		{"self", func() error { return add("d", nil, []string{"d"}, nil) }, errdefs.ErrInvalid, "cycle: d -> d"},
		{"self update", func() error {
			_, err := f.svc.UpdateRole(f.ctx, store.Role{Name: "a", Inherit: []string{"a"}})
			return err
		}, errdefs.ErrInvalid, "cycle: a -> a"},
		{"unknown capability", func() error { return add("e", []string{"search", "fly", "teleport"}, nil, nil) },
			errdefs.ErrInvalid, `unknown capabilities "fly", "teleport"`},
		{"unknown inherit", func() error { return add("e", nil, []string{"ghost"}, nil) }, errdefs.ErrInvalid, `unknown role "ghost"`},
		{"bad index", func() error { return add("e", nil, nil, []string{"Bad Index"}) }, errdefs.ErrInvalid, `"Bad Index"`},
		{"bad name", func() error { return add("Bad", nil, nil, nil) }, errdefs.ErrInvalid, `role name "Bad"`},
		{"duplicate", func() error { return add("a", nil, nil, nil) }, errdefs.ErrConflict, `role "a" already exists`},
		{"delete builtin", func() error { return f.svc.DeleteRole(f.ctx, RolePower) }, errdefs.ErrPermissionDenied, "built in"},
		{"change admin", func() error {
			_, err := f.svc.UpdateRole(f.ctx, store.Role{Name: RoleAdmin})
			return err
		}, errdefs.ErrPermissionDenied, "cannot be changed"},
		{"delete inherited", func() error { return f.svc.DeleteRole(f.ctx, "a") }, errdefs.ErrConflict, "inherited by roles: b"},
		{"delete held", func() error { return f.svc.DeleteRole(f.ctx, "c") }, errdefs.ErrConflict, "users: carol"},
		{"delete missing", func() error { return f.svc.DeleteRole(f.ctx, "zz") }, errdefs.ErrNotFound, `role "zz" not found`},
	}
	for _, tc := range tests {
		err := tc.do()
		if !errors.Is(err, tc.kind) || !strings.Contains(fmtErr(err), tc.message) {
			t.Errorf("%s: error = %v; want %v containing %q", tc.name, err, tc.kind, tc.message)
		}
	}
	// An update that adds no cycle is fine, and takes effect.
	if _, err := f.svc.UpdateRole(f.ctx, store.Role{Name: "a", Capabilities: []string{"publish_notebooks"}}); err != nil {
		t.Fatalf("UpdateRole: %v", err)
	}
	if p, _ := f.svc.EffectivePrincipal(f.ctx, "carol", ""); !p.Can(CapPublishNotebooks) || p.Can(CapUseGPU) {
		t.Errorf("update of an inherited role not seen: %v", p.Caps.Sorted())
	}
}

func fmtErr(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func storeRole(name string, inherit ...string) store.Role {
	return store.Role{Name: name, Inherit: inherit}
}
