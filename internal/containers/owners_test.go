package containers_test

import (
	"context"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dockyard/dockyard/internal/access"
	"github.com/dockyard/dockyard/internal/containers"
	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/store"
)

// knownRoles is a containers.RoleChecker over a fixed set of roles.
type knownRoles []string

func (k knownRoles) GetRole(ctx context.Context, name string) (store.Role, error) {
	if slices.Contains(k, name) {
		return store.Role{Name: name}, nil
	}
	return store.Role{}, errdefs.NotFound("role not found: " + name)
}

// verbs runs each container verb as p on name and returns its error.
func verbs(svc *containers.Service, p *access.Principal, name string) map[string]error {
	ctx := context.Background()
	out := map[string]error{}
	_, out["run"] = svc.Ensure(ctx, p, name, containers.EnsureOptions{})
	_, out["get"] = svc.Get(ctx, p, name)
	rc, err := svc.Logs(ctx, p, name, time.Time{})
	if err == nil {
		io.Copy(io.Discard, rc)
		rc.Close()
	}
	out["logs"] = err
	_, out["share"] = svc.Share(ctx, p, name, nil)
	_, out["stop"] = svc.Stop(ctx, p, name)
	out["remove"] = svc.Remove(ctx, p, name)
	_, out["start"] = svc.Start(ctx, p, containers.StartRequest{Name: name}) // last: it creates a missing one
	return out
}

func TestOwnershipHidesContainers(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	e.opts.Roles = knownRoles{"analysts", access.RoleContainerUser}
	e.svc = e.newService(t)
	alice := principal("alice", access.RoleContainerUser)
	bob := principal("bob", access.RoleContainerUser)
	carol := principal("carol", access.RoleContainerUser, "analysts")
	admin := principal("root", access.RoleAdmin)
	if _, err := e.svc.Start(ctx, alice, containers.StartRequest{Name: "box"}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Ensure(ctx, alice, "", containers.EnsureOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Share(ctx, alice, "box", []string{"analysts", " analysts", ""}); err != nil {
		t.Fatalf("Share: %v", err)
	}

	// bob: every verb on alice's box and alice/__dev__ answers as for a
	// name that does not exist (start excepted: it would create one).
	for _, name := range []string{"box", "alice/__dev__"} {
		hidden := verbs(e.svc, bob, name)
		missing := verbs(e.svc, bob, map[string]string{"box": "nosuch", "alice/__dev__": "nobody/__dev__"}[name])
		for v, err := range hidden {
			if v == "start" && name == "box" {
				if !errdefs.IsNotFound(err) || err.Error() != "container not found: box" {
					t.Errorf("bob start box = %v, want container not found: box", err)
				}
				continue
			}
			want := missing[v]
			if err == nil || want == nil {
				t.Errorf("bob %s %s = %v (missing: %v), want both refused", v, name, err, want)
				continue
			}
			m := strings.ReplaceAll(strings.ReplaceAll(want.Error(), "nosuch", "box"), "nobody", "alice")
			if err.Error() != m || !errdefs.IsNotFound(err) {
				t.Errorf("bob %s %s = %q, want exactly the missing answer %q", v, name, err, m)
			}
		}
	}

	if err := e.svc.Remove(ctx, bob, "nosuch"); err != nil {
		t.Fatalf("bob removes the nosuch his start made: %v", err)
	}

	// carol holds the shared role: she may run code and see it, nothing
	// more; alice/__dev__ stays hidden from her.
	if h, err := e.svc.Ensure(ctx, carol, "box", containers.EnsureOptions{}); err != nil || h.Owner != "alice" {
		t.Errorf("carol Ensure(box) = %+v, %v", h, err)
	}
	cv := verbs(e.svc, carol, "box")
	for _, v := range []string{"logs", "share", "stop", "start", "remove"} {
		if err := cv[v]; err == nil || err.Error() != "container not found: box" {
			t.Errorf("carol %s box = %v, want container not found: box", v, err)
		}
	}
	if _, err := e.svc.Ensure(ctx, carol, "alice/__dev__", containers.EnsureOptions{}); !errdefs.IsNotFound(err) {
		t.Errorf("carol Ensure(alice/__dev__) = %v", err)
	}
	names := func(p *access.Principal) string {
		l, err := e.svc.ListFor(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, c := range l {
			out = append(out, c.Owner+":"+c.Name)
		}
		return strings.Join(out, " ")
	}
	if got := names(bob); got != "" {
		t.Errorf("bob lists %q, want nothing", got)
	}
	if got := names(carol); got != "alice:box" {
		t.Errorf("carol lists %q, want alice:box", got)
	}
	if got := names(alice); got != "alice:__dev__ alice:box" {
		t.Errorf("alice lists %q", got)
	}
	if got := names(admin); got != "alice:__dev__ alice:box" {
		t.Errorf("admin lists %q", got)
	}
	if !e.hasAction("container.run denied bob container:box") || !e.hasAction("container.stop denied carol container:box") ||
		!e.hasAction("container.logs denied bob container:alice/__dev__") {
		t.Errorf("refusals not audited: %q", e.actions())
	}

	// Sharing: unknown roles, development containers; unsharing.
	if _, err := e.svc.Share(ctx, alice, "box", []string{"nosuchrole"}); !errdefs.IsInvalid(err) || !strings.Contains(err.Error(), `unknown role "nosuchrole"`) {
		t.Errorf("Share with an unknown role = %v", err)
	}
	if _, err := e.svc.Share(ctx, alice, containers.DevName, []string{"analysts"}); !errdefs.IsInvalid(err) || !strings.Contains(err.Error(), "development container") {
		t.Errorf("Share __dev__ = %v", err)
	}
	if c, err := e.svc.Share(ctx, admin, "box", nil); err != nil || len(c.Roles) != 0 {
		t.Errorf("admin unshares box = %+v, %v", c, err)
	}
	if _, err := e.svc.Ensure(ctx, carol, "box", containers.EnsureOptions{}); !errdefs.IsNotFound(err) {
		t.Errorf("carol Ensure(box) after unsharing = %v, want not found", err)
	}
	var shares []string
	for _, ev := range e.audit.Events() {
		if ev.Action == "container.share" && ev.Result == "success" {
			shares = append(shares, ev.User+" "+strings.Join(anyStrings(ev.Details["roles"]), ","))
		}
	}
	if strings.Join(shares, "; ") != "alice analysts; root " {
		t.Errorf("share events = %q", shares)
	}
	// The admin may do everything with alice's containers.
	for v, err := range verbs(e.svc, admin, "alice/__dev__") {
		if err != nil && v != "share" {
			t.Errorf("admin %s alice/__dev__: %v", v, err)
		}
	}
}

func anyStrings(v any) []string {
	switch x := v.(type) {
	case []string:
		return x
	case []any:
		var out []string
		for _, s := range x {
			out = append(out, s.(string))
		}
		return out
	}
	return nil
}

func TestNonIsolatedRuntimeIsForAdministrators(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	alice := principal("alice", access.RoleContainerUser)
	admin := principal("root", access.RoleAdmin)
	if _, err := e.svc.Start(ctx, alice, containers.StartRequest{Name: "box"}); err != nil {
		t.Fatal(err)
	}
	const why = "install the Debian package bubblewrap or set containers.process.sandbox"
	e.rt.SetIsolated(false, why)
	if _, err := e.svc.Start(ctx, alice, containers.StartRequest{Name: "other"}); !errdefs.IsPermissionDenied(err) || !strings.Contains(err.Error(), why) {
		t.Errorf("Start on a non-isolated runtime = %v, want permission denied with the reason", err)
	}
	if _, err := e.svc.Ensure(ctx, alice, "", containers.EnsureOptions{}); !errdefs.IsPermissionDenied(err) || !strings.Contains(err.Error(), why) {
		t.Errorf("Ensure(__dev__) on a non-isolated runtime = %v, want permission denied with the reason", err)
	}
	if _, err := e.svc.Ensure(ctx, alice, "box", containers.EnsureOptions{}); !errdefs.IsPermissionDenied(err) || !strings.Contains(err.Error(), why) {
		t.Errorf("running code in a running container on a non-isolated runtime = %v, want permission denied with the reason", err)
	}
	// Hidden stays hidden: bob is told box does not exist, not why.
	if _, err := e.svc.Ensure(ctx, principal("bob", access.RoleContainerUser), "box", containers.EnsureOptions{}); !errdefs.IsNotFound(err) {
		t.Errorf("bob Ensure(box) = %v, want not found", err)
	}
	// The owner may still stop and remove it.
	if _, err := e.svc.Stop(ctx, alice, "box"); err != nil {
		t.Errorf("Stop: %v", err)
	}
	if !e.hasAction("container.run denied alice container:box") || !e.hasAction("container.start denied alice container:other") {
		t.Errorf("refusals not audited: %q", e.actions())
	}
	// Administrators may.
	if _, err := e.svc.Ensure(ctx, admin, "box", containers.EnsureOptions{}); err != nil {
		t.Errorf("admin Ensure(box): %v", err)
	}
	if _, err := e.svc.Start(ctx, admin, containers.StartRequest{Name: "adminbox"}); err != nil {
		t.Errorf("admin Start: %v", err)
	}
	if l, _ := e.rt.List(ctx, nil); len(l) != 2 {
		t.Errorf("runtime containers = %d, want box and adminbox", len(l))
	}
}
