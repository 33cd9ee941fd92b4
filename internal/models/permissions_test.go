package models

import (
	"fmt"
	"slices"
	"testing"

	"github.com/dockyard/dockyard/internal/access"
	"github.com/dockyard/dockyard/internal/audit"
)

// TestPermissionMatrix checks every actor × sharing level × operation. The
// model is alice's in app sales; read roles are open, write role "editors".
// bob and carol hold "editors"; dave does not; carol is in app hr.
func TestPermissionMatrix(t *testing.T) {
	e := newEnv(t, Options{})
	type row struct {
		actor *access.Principal
		// expected outcome of read, write, share, delete
		user, app, global [4]string
	}
	ok, nf, dn := "ok", "notfound", "denied"
	rows := []row{
		{alice, [4]string{ok, ok, ok, ok}, [4]string{ok, ok, ok, ok}, [4]string{ok, ok, ok, ok}}, // owner
		{bob, [4]string{nf, nf, nf, nf}, [4]string{ok, ok, dn, ok}, [4]string{ok, ok, dn, ok}},   // same app, writer
		{dave, [4]string{nf, nf, nf, nf}, [4]string{ok, dn, dn, dn}, [4]string{ok, dn, dn, dn}},  // same app, reader
		{carol, [4]string{nf, nf, nf, nf}, [4]string{nf, nf, nf, nf}, [4]string{ok, ok, dn, ok}}, // other app, writer
		{erin, [4]string{nf, nf, nf, nf}, [4]string{nf, nf, nf, nf}, [4]string{ok, dn, dn, dn}},  // other app, reader
		{admin, [4]string{ok, ok, ok, ok}, [4]string{ok, ok, ok, ok}, [4]string{ok, ok, ok, ok}}, // admin_all_objects
	}
	ops := []string{"read", "write", "share", "delete"} // delete last: it ends the model
	n := 0
	for _, r := range rows {
		for _, sh := range []access.Sharing{access.SharingUser, access.SharingApp, access.SharingGlobal} {
			want := map[access.Sharing][4]string{access.SharingUser: r.user, access.SharingApp: r.app, access.SharingGlobal: r.global}[sh]
			n++
			name := fmt.Sprintf("M%d", n)
			e.register(t, alice, name, "algo", name)
			if _, err := e.reg.Share(as(alice), Ref{Name: name}, sh, nil, []string{"editors"}); err != nil {
				t.Fatalf("share %s: %v", name, err)
			}
			rf := Ref{Name: name}
			if sh == access.SharingUser && r.actor == admin {
				rf.Owner = "alice" // an administrator addresses another user's private model
			}
			ctx := as(r.actor)
			for i, op := range ops {
				var err error
				switch op {
				case "read":
					_, err = e.reg.Show(ctx, rf)
				case "write":
					_, err = e.reg.SetAlias(ctx, rf, "production", 1, "test")
				case "share": // the same settings again, so that later cells see the same model
					_, err = e.reg.Share(ctx, rf, sh, nil, []string{"editors"})
				case "delete":
					err = e.reg.Delete(ctx, rf)
				}
				if got := errKind(err); got != want[i] {
					t.Errorf("%s %s on %s-shared model: got %s (%v), want %s", r.actor.User, op, sh, got, err, want[i])
				}
				// The listing agrees with read permission, decided in SQL.
				if op == "read" {
					page, err := e.reg.List(ctx, ListOptions{Search: name})
					if err != nil {
						t.Fatalf("list: %v", err)
					}
					listed := slices.ContainsFunc(page.Models, func(m Model) bool { return m.Name == name })
					if listed != (want[0] == ok) {
						t.Errorf("%s lists %s-shared model: listed=%v, want %v", r.actor.User, sh, listed, want[0] == ok)
					}
				}
			}
			// After a successful delete the model is gone for its owner too.
			if want[3] == ok {
				_, err := e.reg.Show(as(alice), Ref{Name: name})
				mustKind(t, "show after delete", err, "notfound")
			}
		}
	}
	// Refused changes are audited as denied.
	denied := 0
	for _, ev := range e.audit.Events() {
		if ev.Result == audit.ResultDenied {
			denied++
		}
	}
	if denied == 0 {
		t.Errorf("no denied audit events recorded")
	}
}

// TestReadRolesRestrict checks read roles: a role outside the list cannot
// see an app-shared model, in Show and in the listing.
func TestReadRolesRestrict(t *testing.T) {
	e := newEnv(t, Options{})
	e.register(t, alice, "app:Restricted", "a", "x")
	if _, err := e.reg.Share(as(alice), ref(t, "app:Restricted"), access.SharingApp, []string{"editors"}, nil); err != nil {
		t.Fatalf("share: %v", err)
	}
	_, err := e.reg.Show(as(dave), ref(t, "app:Restricted"))
	mustKind(t, "dave shows", err, "notfound")
	_, err = e.reg.Show(as(bob), ref(t, "app:Restricted"))
	mustKind(t, "bob shows", err, "ok")
	for _, c := range []struct {
		p    *access.Principal
		want int
	}{{dave, 0}, {bob, 1}, {alice, 1}, {admin, 1}} {
		page, err := e.reg.List(as(c.p), ListOptions{})
		if err != nil {
			t.Fatalf("list: %v", err)
		}
		if len(page.Models) != c.want {
			t.Errorf("%s lists %d models, want %d", c.p.User, len(page.Models), c.want)
		}
	}
}

// TestHiddenEqualsMissing checks that every operation answers a model the
// caller may not read exactly as it answers one that does not exist.
func TestHiddenEqualsMissing(t *testing.T) {
	e := newEnv(t, Options{})
	ops := map[string]func(r Ref) error{
		"show":     func(r Ref) error { _, err := e.reg.Show(as(bob), r); return err },
		"resolve":  func(r Ref) error { _, _, err := e.reg.Resolve(as(bob), r); return err },
		"versions": func(r Ref) error { _, err := e.reg.Versions(as(bob), r); return err },
		"history":  func(r Ref) error { _, err := e.reg.History(as(bob), r); return err },
		"alias":    func(r Ref) error { _, err := e.reg.SetAlias(as(bob), r, "production", 1, ""); return err },
		"rollback": func(r Ref) error { _, err := e.reg.Rollback(as(bob), r, 1, ""); return err },
		"share":    func(r Ref) error { _, err := e.reg.Share(as(bob), r, access.SharingApp, nil, nil); return err },
		"delete":   func(r Ref) error { return e.reg.Delete(as(bob), r) },
		"files":    func(r Ref) error { _, _, err := e.reg.Files(as(bob), r); return err },
		"export":   func(r Ref) error { _, err := e.reg.ExportTar(as(bob), r, discard{}); return err },
	}
	for _, refText := range []string{"Secret", "Secret@1", "Secret@production", "app:Shared", "app:Shared@1"} {
		base := ref(t, refText)
		// Secret is alice's private model in sales; app:Shared is carol's, in hr.
		hidden := map[string]error{}
		e.register(t, alice, "Secret", "a", "s")
		e.register(t, carol, "app:Shared", "a", "s")
		for name, op := range ops {
			hidden[name] = op(base)
		}
		if err := e.reg.Delete(as(alice), ref(t, "Secret")); err != nil {
			t.Fatal(err)
		}
		if err := e.reg.Delete(as(carol), ref(t, "app:Shared")); err != nil {
			t.Fatal(err)
		}
		for name, op := range ops {
			missing := op(base)
			h := hidden[name]
			if h == nil || missing == nil || errKind(h) != errKind(missing) || h.Error() != missing.Error() {
				t.Errorf("%s %s: hidden gives %q, missing gives %q; want the same answer", name, refText, h, missing)
			}
		}
	}
	_, err := e.reg.Show(as(bob), ref(t, "Nothing"))
	if err == nil || err.Error() != "model not found: Nothing" {
		t.Errorf("missing model: got %v, want model not found: Nothing", err)
	}
}

type discard struct{}

func (discard) Write(b []byte) (int, error) { return len(b), nil }

// TestResolutionPrecedence: private in the current app, then app level in
// the current app, then global from another app; unreadable candidates are
// skipped as if absent.
func TestResolutionPrecedence(t *testing.T) {
	e := newEnv(t, Options{})
	e.register(t, alice, "P", "private-alice", "1")
	e.register(t, bob, "app:P", "app-sales", "2")
	e.register(t, carol, "app:P", "global-hr", "3")
	if _, err := e.reg.Share(as(carol), ref(t, "app:P"), access.SharingGlobal, nil, nil); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		p    *access.Principal
		ref  string
		algo string
	}{
		{alice, "P", "private-alice"}, // own private first
		{alice, "app:P", "app-sales"}, // app: skips the private one
		{bob, "P", "app-sales"},       // no private: the app-level one
		{dave, "P", "app-sales"},
		{carol, "P", "global-hr"}, // carol's app is hr: her global model is app level there
		{erin, "P", "global-hr"},  // another app: the global one from hr
		{erin, "app:P", "global-hr"},
		{admin, "P", "app-sales"}, // admin has no private P: precedence still holds
	}
	for _, c := range cases {
		m, _, err := e.reg.Resolve(as(c.p), ref(t, c.ref))
		if err != nil {
			t.Errorf("%s resolves %s: %v", c.p.User, c.ref, err)
			continue
		}
		if m.Algo != c.algo {
			t.Errorf("%s resolves %s to %s/%s (%s), want %s", c.p.User, c.ref, m.App, m.Owner, m.Algo, c.algo)
		}
	}
	// An app-level model dave may not read is skipped: he gets the global one.
	if _, err := e.reg.Share(as(bob), ref(t, "app:P"), access.SharingApp, []string{"editors"}, nil); err != nil {
		t.Fatal(err)
	}
	m, _, err := e.reg.Resolve(as(dave), ref(t, "P"))
	if err != nil || m.Algo != "global-hr" {
		t.Errorf("dave resolves P after restriction: %+v, %v; want global-hr", m, err)
	}
	// Registering into "P" as erin is refused: it resolves to the global
	// model, which she may read but not write.
	_, err = e.reg.RegisterVersion(as(erin), ref(t, "P"), VersionInput{Files: []File{{Path: "a", Reader: stringReader("e")}}})
	mustKind(t, "erin registers into the global P she may only read", err, "denied")
	// Without an identity nothing resolves.
	_, _, err = e.reg.Resolve(nobody, ref(t, "P"))
	mustKind(t, "no principal", err, "unauthenticated")
}
