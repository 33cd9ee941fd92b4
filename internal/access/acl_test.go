package access

import "testing"

func TestACL(t *testing.T) {
	principal := func(user, app string, roles ...string) *Principal {
		return &Principal{User: user, App: app, Roles: roles, Caps: CapSet{}, Apps: MemberOf("dsdl", "search")}
	}
	owner := principal("olivia", "dsdl", "user")
	sameApp := principal("sam", "dsdl", "user")
	otherApp := principal("oscar", "search", "user")
	writer := principal("wendy", "dsdl", "user", "editors")
	admin := &Principal{User: "root", App: "search", Roles: []string{"admin"}, Caps: CapSet{CapAdminAllObjects: true}}

	acl := func(s Sharing, read, write []string) ACL {
		return ACL{Owner: "olivia", App: "dsdl", Sharing: s, Read: read, Write: write}
	}
	type want struct{ read, write, share bool }
	tests := []struct {
		name string
		acl  ACL
		want map[*Principal]want
	}{
		{"user sharing", acl(SharingUser, nil, nil), map[*Principal]want{
			owner: {true, true, true}, sameApp: {}, otherApp: {}, writer: {}, admin: {true, true, true}}},
		{"user sharing ignores roles", acl(SharingUser, []string{"*"}, []string{"editors"}), map[*Principal]want{
			owner: {true, true, true}, sameApp: {}, otherApp: {}, writer: {}, admin: {true, true, true}}},
		{"app sharing, everyone reads", acl(SharingApp, nil, nil), map[*Principal]want{
			owner: {true, true, true}, sameApp: {true, false, false}, otherApp: {}, writer: {true, false, false}, admin: {true, true, true}}},
		{"app sharing, editors write", acl(SharingApp, []string{"*"}, []string{"editors"}), map[*Principal]want{
			owner: {true, true, true}, sameApp: {true, false, false}, otherApp: {}, writer: {true, true, false}, admin: {true, true, true}}},
		{"app sharing, read limited to editors", acl(SharingApp, []string{"editors"}, nil), map[*Principal]want{
			owner: {true, true, true}, sameApp: {}, otherApp: {}, writer: {true, false, false}, admin: {true, true, true}}},
		{"global sharing", acl(SharingGlobal, nil, nil), map[*Principal]want{
			owner: {true, true, true}, sameApp: {true, false, false}, otherApp: {true, false, false}, writer: {true, false, false}, admin: {true, true, true}}},
		{"global sharing, editors write", acl(SharingGlobal, []string{"user"}, []string{"editors"}), map[*Principal]want{
			owner: {true, true, true}, sameApp: {true, false, false}, otherApp: {true, false, false}, writer: {true, true, false}, admin: {true, true, true}}},
		{"global sharing, everyone writes", acl(SharingGlobal, nil, []string{"*"}), map[*Principal]want{
			owner: {true, true, true}, sameApp: {true, true, false}, otherApp: {true, true, false}, writer: {true, true, false}, admin: {true, true, true}}},
	}
	for _, tc := range tests {
		for p, w := range tc.want {
			got := want{p.CanRead(tc.acl), p.CanWrite(tc.acl), p.CanShare(tc.acl)}
			if got != w {
				t.Errorf("%s, %s: read/write/share = %v, want %v", tc.name, p.User, got, w)
			}
		}
	}
	var nobody *Principal
	if nobody.CanRead(acl(SharingGlobal, nil, nil)) || nobody.CanWrite(acl(SharingGlobal, nil, []string{"*"})) || nobody.CanShare(ACL{}) {
		t.Errorf("nil principal was allowed")
	}
}
