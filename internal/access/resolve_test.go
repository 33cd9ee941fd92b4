package access

import "testing"

func TestResolvePrecedence(t *testing.T) {
	alice := &Principal{User: "alice", Roles: []string{RoleUser}, App: "search", Apps: MemberOf("search", "a_app", "b_app")}
	private := ACL{Owner: "alice", App: "search", Sharing: SharingUser}
	bobPrivate := ACL{Owner: "bob", App: "search", Sharing: SharingUser}
	appShared := ACL{Owner: "bob", App: "search", Sharing: SharingApp}
	otherGlobalA := ACL{Owner: "carol", App: "a_app", Sharing: SharingGlobal}
	otherGlobalB := ACL{Owner: "carol", App: "b_app", Sharing: SharingGlobal}
	otherApp := ACL{Owner: "carol", App: "b_app", Sharing: SharingApp}
	hidden := ACL{Owner: "bob", App: "search", Sharing: SharingApp, Read: []string{RoleAdmin}}
	id := func(a ACL) ACL { return a }
	readable := func(a ACL) bool { return alice.CanRead(a) }
	cases := []struct {
		name  string
		cands []ACL
		allow func(Reach) bool
		want  ACL
		found bool
	}{
		{"private first", []ACL{otherGlobalA, appShared, private}, nil, private, true},
		{"then app", []ACL{otherGlobalA, appShared, bobPrivate}, nil, appShared, true},
		{"then global, first in order", []ACL{otherGlobalB, otherGlobalA, otherApp}, nil, otherGlobalB, true},
		{"others' private and other apps unreachable", []ACL{bobPrivate, otherApp}, nil, ACL{}, false},
		{"unreadable skipped", []ACL{hidden, otherGlobalA}, nil, otherGlobalA, true},
		{"app: skips private", []ACL{private, appShared}, func(r Reach) bool { return r != ReachPrivate }, appShared, true},
	}
	for _, c := range cases {
		got, found := Resolve(c.cands, id, "search", "alice", c.allow, readable)
		if found != c.found || found && (got.Owner != c.want.Owner || got.App != c.want.App || got.Sharing != c.want.Sharing) {
			t.Errorf("%s: got %+v %v, want %+v %v", c.name, got, found, c.want, c.found)
		}
	}
}
