package knowledge

import (
	"context"
	"testing"

	"github.com/dockyard/dockyard/internal/access"
	"github.com/dockyard/dockyard/internal/audit"
	"github.com/dockyard/dockyard/internal/errdefs"
)

func validName(string) error { return nil }

func TestFindCollideShare(t *testing.T) {
	rec := &audit.Memory{}
	k := NewKind(Kind{Noun: "thing", ValidateName: validName}, rec, nil)
	apps := access.AppSet{"search": {Read: true, Write: true}, "hr": {Read: true}}
	bob := &access.Principal{User: "bob", Roles: []string{"user"}, App: "search", Apps: apps}
	id := func(o Object) Object { return o }
	obj := func(id int64, owner, app string, s access.Sharing, read ...string) Object {
		return Object{ID: id, Name: "x", ACL: access.ACL{Owner: owner, App: app, Sharing: s, Read: read}}
	}
	alicesHidden := obj(1, "alice", "search", access.SharingApp, "admin")
	carolsShared := obj(2, "carol", "search", access.SharingApp)
	davesShared := obj(3, "dave", "search", access.SharingApp)
	bobsPrivate := obj(4, "bob", "search", access.SharingUser)
	hrGlobal := obj(5, "hal", "hr", access.SharingGlobal)

	// Among equally reachable objects the oldest wins (a newer one cannot
	// take over a name); hidden objects are skipped.
	got, err := Find(k, bob, Query{App: "search", Name: "x"}, []Object{davesShared, alicesHidden, carolsShared}, id)
	if err != nil || got.ID != 2 {
		t.Errorf("Find = %+v, %v; want carol's (the oldest readable)", got, err)
	}
	if got, _ := Find(k, bob, Query{App: "search", Name: "x"}, []Object{carolsShared, bobsPrivate}, id); got.ID != 4 {
		t.Errorf("Find prefers %d, want bob's private", got.ID)
	}
	if got, _ := Find(k, bob, Query{App: "search", Name: "x", AppShared: true}, []Object{carolsShared, bobsPrivate}, id); got.ID != 2 {
		t.Errorf("app:x finds %d, want carol's shared", got.ID)
	}
	if _, err := Find(k, bob, Query{App: "search", Name: "x"}, []Object{alicesHidden}, id); !errdefs.IsNotFound(err) || err.Error() != "thing not found: x" {
		t.Errorf("only hidden: %v", err)
	}
	if got, _ := Find(k, bob, Query{App: "search", Name: "x"}, []Object{hrGlobal}, id); got.ID != 5 {
		t.Errorf("global from hr (readable): %+v", got)
	}
	outsider := &access.Principal{User: "olga", Roles: []string{"user"}, App: "search", Apps: access.AppSet{"search": {Read: true}}}
	if _, err := Find(k, outsider, Query{App: "search", Name: "x"}, []Object{hrGlobal}, id); !errdefs.IsNotFound(err) {
		t.Errorf("global from an app olga may not read: %v", err)
	}

	// A hidden shared object never collides; a visible one does.
	mine := obj(6, "bob", "search", access.SharingUser)
	if err := Collide(k, bob, mine, access.SharingApp, []Object{alicesHidden, mine}, id); err != nil {
		t.Errorf("collide with a hidden object: %v", err)
	}
	if err := Collide(k, bob, mine, access.SharingApp, []Object{carolsShared, mine}, id); !errdefs.IsConflict(err) {
		t.Errorf("collide with a visible object: %v", err)
	}
	if err := Collide(k, bob, mine, access.SharingUser, []Object{carolsShared}, id); err != nil {
		t.Errorf("private never collides: %v", err)
	}

	// Share: owner only; sharing into an app needs write on it; refusals audited.
	if _, err := Share(context.Background(), k, bob, carolsShared, access.SharingGlobal, nil, nil, nil, id); !errdefs.IsPermissionDenied(err) {
		t.Errorf("bob shares carol's: %v", err)
	}
	inHR := obj(7, "bob", "hr", access.SharingUser)
	if _, err := Share(context.Background(), k, bob, inHR, access.SharingApp, nil, nil, nil, id); !errdefs.IsPermissionDenied(err) {
		t.Errorf("bob shares into hr (read only): %v", err)
	}
	acl, err := Share(context.Background(), k, bob, mine, access.SharingApp, []string{"b", "a", "a"}, nil, []Object{alicesHidden}, id)
	if err != nil || acl.Sharing != access.SharingApp || len(acl.Read) != 2 || acl.Read[0] != "a" {
		t.Errorf("bob shares his own: %+v, %v", acl, err)
	}
	evs := rec.Events()
	if len(evs) != 2 || evs[0].Result != audit.ResultDenied || evs[1].Object != "thing:hr/bob/x" {
		t.Errorf("audit events: %+v", evs)
	}
	if k.AuditObject(carolsShared) != "thing:search/x" {
		t.Errorf("AuditObject = %s", k.AuditObject(carolsShared))
	}
	if _, err := ContextApp(outsider, "hr"); err == nil || err.Error() != "app not found: hr" {
		t.Errorf("ContextApp(hr) for olga: %v", err)
	}
}
