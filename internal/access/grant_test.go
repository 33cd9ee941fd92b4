package access

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/store"
)

// TestLoginThrottleHoldsForConcurrentAttempts sends a login that passes
// the throttle and then waits for an argon2 slot while other attempts fail
// enough to block the user: it must be refused, not checked, or a burst of
// concurrent guesses would all get through the throttle.
func TestLoginThrottleHoldsForConcurrentAttempts(t *testing.T) {
	f := newFixture(t)
	f.addUser(t, "alice", RoleUser)
	for range cap(f.svc.hashSlots) {
		f.svc.hashSlots <- struct{}{} // every slot busy
	}
	asked := make(chan struct{})
	var once sync.Once
	f.svc.throttle.now = func() time.Time {
		once.Do(func() { close(asked) })
		return f.clock.Now()
	}
	done := make(chan error, 1)
	go func() {
		_, _, err := f.svc.Login(context.Background(), "alice", "alice-password", "192.0.2.7:1")
		done <- err
	}()
	<-asked // the attempt passed the first check and now waits for a slot
	for range testThrottle.MaxFailures {
		f.svc.throttle.Fail("alice", "198.51.100.9:1")
	}
	for range cap(f.svc.hashSlots) {
		<-f.svc.hashSlots
	}
	if err := <-done; !errdefs.IsLimit(err) || !strings.Contains(err.Error(), `too many failed logins for user "alice"`) {
		t.Fatalf("login that waited while the user got blocked: %v; want ErrLimit", err)
	}
}

func TestGrantChecks(t *testing.T) {
	f := newFixture(t)
	ctx := f.ctx
	// useradmin may manage users and roles but holds only what "user" has
	// besides.
	if _, err := f.svc.AddRole(ctx, store.Role{Name: "useradmin", Capabilities: []string{string(CapEditUser), string(CapEditRoles)}, Inherit: []string{RoleUser}}); err != nil {
		t.Fatal(err)
	}
	f.addUser(t, "ua", "useradmin")
	f.addUser(t, "alice", RoleUser)
	f.addUser(t, "carol", RoleContainerUser)
	ua, err := f.svc.EffectivePrincipal(ctx, "ua", "")
	if err != nil {
		t.Fatal(err)
	}
	admin, err := f.svc.EffectivePrincipal(ctx, "admin", "")
	if err != nil {
		t.Fatal(err)
	}
	denied := func(want string) func(error) bool {
		return func(err error) bool { return errdefs.IsPermissionDenied(err) && strings.Contains(err.Error(), want) }
	}
	ok := func(err error) bool { return err == nil }
	for _, tc := range []struct {
		name string
		err  error
		want func(error) bool
	}{
		{"ua grants admin", f.svc.CheckGrant(ctx, ua, []string{RoleAdmin}), denied("capability admin_all_objects")},
		{"ua grants container user", f.svc.CheckGrant(ctx, ua, []string{RoleContainerUser}), denied("capability control_mltk_container")},
		{"ua grants user", f.svc.CheckGrant(ctx, ua, []string{RoleUser}), ok},
		{"ua grants its own roles", f.svc.CheckGrant(ctx, ua, []string{"useradmin"}), ok},
		{"admin grants admin", f.svc.CheckGrant(ctx, admin, []string{RoleAdmin}), ok},
		{"ua role with a cap it lacks", f.svc.CheckRoleGrant(ctx, ua, store.Role{Name: "x", Capabilities: []string{string(CapReadAudit)}}), denied("capability read_audit")},
		{"ua role inheriting admin", f.svc.CheckRoleGrant(ctx, ua, store.Role{Name: "x", Inherit: []string{RoleAdmin}}), denied("capability use_gpu")},
		{"ua role reading _internal", f.svc.CheckRoleGrant(ctx, ua, store.Role{Name: "x", SearchIndexes: []string{"_internal"}}), denied("index _internal")},
		{"ua role reading every index", f.svc.CheckRoleGrant(ctx, ua, store.Role{Name: "x", SearchIndexes: []string{"*"}}), denied("index *")},
		{"ua role within its own", f.svc.CheckRoleGrant(ctx, ua, store.Role{Name: "x", Capabilities: []string{string(CapSearch)}, SearchIndexes: []string{"main"}, Inherit: []string{RoleUser}}), ok},
		{"ua manages admin", f.svc.CheckManageUser(ctx, ua, "admin"), denied(`user "admin" holds`)},
		{"ua manages carol", f.svc.CheckManageUser(ctx, ua, "carol"), denied("capability list_mltk_container")},
		{"ua manages alice", f.svc.CheckManageUser(ctx, ua, "alice"), ok},
		{"ua manages itself", f.svc.CheckManageUser(ctx, ua, "ua"), ok},
		{"ua manages nobody", f.svc.CheckManageUser(ctx, ua, "nobody"), ok},
		{"admin manages admin", f.svc.CheckManageUser(ctx, admin, "admin"), ok},
		{"no caller", f.svc.CheckGrant(ctx, nil, []string{RoleUser}), errdefs.IsUnauthenticated},
	} {
		if !tc.want(tc.err) {
			t.Errorf("%s: %v", tc.name, tc.err)
		}
	}
}
