package storetest

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/store"
)

// t0 has nanoseconds and a zone other than UTC, to catch lossy timestamps.
var t0 = time.Date(2025, 3, 4, 5, 6, 7, 123456789, time.FixedZone("CET", 3600))

func testAccess(t *testing.T, open Opener) {
	t.Run("users", func(t *testing.T) { testUsers(t, open(t)) })
	t.Run("roles", func(t *testing.T) { testRoles(t, open(t)) })
	t.Run("tokens", func(t *testing.T) { testTokens(t, open(t)) })
}

func equalUser(a, b store.User) bool {
	return a.Name == b.Name && a.PasswordHash == b.PasswordHash && slices.Equal(a.Roles, b.Roles) &&
		a.DefaultApp == b.DefaultApp && a.Created.Equal(b.Created) && a.Updated.Equal(b.Updated)
}

func testUsers(t *testing.T, s store.Store) {
	ctx := context.Background()
	alice := store.User{Name: "alice", PasswordHash: "$argon2id$x", Roles: []string{"user", "power"},
		DefaultApp: "search", Created: t0, Updated: t0}
	if err := s.CreateUser(ctx, alice); err != nil {
		t.Fatalf("CreateUser: %v", err)
	}
	if err := s.CreateUser(ctx, alice); !errdefs.IsConflict(err) {
		t.Fatalf("CreateUser(duplicate) error = %v, want ErrConflict", err)
	}
	got, err := s.GetUser(ctx, "alice")
	if err != nil || !equalUser(got, alice) {
		t.Fatalf("GetUser = %+v, %v; want %+v", got, err, alice)
	}
	if got.Created.Location() != time.UTC {
		t.Errorf("Created location = %v, want UTC", got.Created.Location())
	}
	if _, err := s.GetUser(ctx, "nobody"); !errdefs.IsNotFound(err) {
		t.Fatalf("GetUser(missing) error = %v, want ErrNotFound", err)
	}

	changed := alice
	changed.PasswordHash, changed.Roles, changed.DefaultApp = "$argon2id$y", []string{"admin"}, "dsdl"
	changed.Created, changed.Updated = t0.Add(time.Hour), t0.Add(time.Minute)
	if err := s.UpdateUser(ctx, changed); err != nil {
		t.Fatalf("UpdateUser: %v", err)
	}
	want := changed
	want.Created = t0 // Created never changes
	if got, err := s.GetUser(ctx, "alice"); err != nil || !equalUser(got, want) {
		t.Fatalf("GetUser after update = %+v, %v; want %+v", got, err, want)
	}
	if err := s.UpdateUser(ctx, store.User{Name: "nobody"}); !errdefs.IsNotFound(err) {
		t.Fatalf("UpdateUser(missing) error = %v, want ErrNotFound", err)
	}

	for _, n := range []string{"zed", "bob"} {
		if err := s.CreateUser(ctx, store.User{Name: n}); err != nil {
			t.Fatalf("CreateUser(%s): %v", n, err)
		}
	}
	list, err := s.ListUsers(ctx)
	if err != nil {
		t.Fatalf("ListUsers: %v", err)
	}
	var names []string
	for _, u := range list {
		names = append(names, u.Name)
	}
	if !slices.Equal(names, []string{"alice", "bob", "zed"}) {
		t.Fatalf("ListUsers names = %v, want [alice bob zed]", names)
	}
	if len(list[1].Roles) != 0 || list[1].Created.IsZero() {
		t.Errorf("user created without roles or time = %+v; want no roles and a creation time", list[1])
	}

	if err := s.DeleteUser(ctx, "bob"); err != nil {
		t.Fatalf("DeleteUser: %v", err)
	}
	if _, err := s.GetUser(ctx, "bob"); !errdefs.IsNotFound(err) {
		t.Fatalf("GetUser(deleted) error = %v, want ErrNotFound", err)
	}
	if err := s.DeleteUser(ctx, "bob"); !errdefs.IsNotFound(err) {
		t.Fatalf("DeleteUser(missing) error = %v, want ErrNotFound", err)
	}
}

func equalRole(a, b store.Role) bool {
	return a.Name == b.Name && slices.Equal(a.Capabilities, b.Capabilities) && slices.Equal(a.Inherit, b.Inherit) &&
		slices.Equal(a.SearchIndexes, b.SearchIndexes) && a.Builtin == b.Builtin && a.Created.Equal(b.Created)
}

func testRoles(t *testing.T, s store.Store) {
	ctx := context.Background()
	r := store.Role{Name: "analyst", Capabilities: []string{"search", "list_mltk_container"},
		Inherit: []string{"user"}, SearchIndexes: []string{"main", "web"}, Builtin: true, Created: t0}
	if err := s.CreateRole(ctx, r); err != nil {
		t.Fatalf("CreateRole: %v", err)
	}
	if err := s.CreateRole(ctx, r); !errdefs.IsConflict(err) {
		t.Fatalf("CreateRole(duplicate) error = %v, want ErrConflict", err)
	}
	if got, err := s.GetRole(ctx, "analyst"); err != nil || !equalRole(got, r) {
		t.Fatalf("GetRole = %+v, %v; want %+v", got, err, r)
	}
	if _, err := s.GetRole(ctx, "nobody"); !errdefs.IsNotFound(err) {
		t.Fatalf("GetRole(missing) error = %v, want ErrNotFound", err)
	}
	r2 := r
	r2.Capabilities, r2.Inherit, r2.SearchIndexes, r2.Builtin = []string{"use_gpu"}, nil, []string{"*"}, false
	if err := s.UpdateRole(ctx, r2); err != nil {
		t.Fatalf("UpdateRole: %v", err)
	}
	got, err := s.GetRole(ctx, "analyst")
	r2.Inherit = []string{}
	if err != nil || !equalRole(got, r2) {
		t.Fatalf("GetRole after update = %+v, %v; want %+v", got, err, r2)
	}
	if err := s.UpdateRole(ctx, store.Role{Name: "nobody"}); !errdefs.IsNotFound(err) {
		t.Fatalf("UpdateRole(missing) error = %v, want ErrNotFound", err)
	}
	if err := s.CreateRole(ctx, store.Role{Name: "aaa"}); err != nil {
		t.Fatalf("CreateRole(aaa): %v", err)
	}
	list, err := s.ListRoles(ctx)
	if err != nil || len(list) != 2 || list[0].Name != "aaa" || list[1].Name != "analyst" {
		t.Fatalf("ListRoles = %+v, %v; want aaa, analyst", list, err)
	}
	if err := s.DeleteRole(ctx, "aaa"); err != nil {
		t.Fatalf("DeleteRole: %v", err)
	}
	if err := s.DeleteRole(ctx, "aaa"); !errdefs.IsNotFound(err) {
		t.Fatalf("DeleteRole(missing) error = %v, want ErrNotFound", err)
	}
}

func equalToken(a, b store.Token) bool {
	return a.ID == b.ID && a.Kind == b.Kind && a.Name == b.Name && a.User == b.User && a.Hash == b.Hash &&
		a.Created.Equal(b.Created) && a.Expires.Equal(b.Expires) && a.LastUsed.Equal(b.LastUsed) && a.Revoked == b.Revoked
}

func testTokens(t *testing.T, s store.Store) {
	ctx := context.Background()
	for _, n := range []string{"alice", "bob"} {
		if err := s.CreateUser(ctx, store.User{Name: n, Created: t0}); err != nil {
			t.Fatalf("CreateUser(%s): %v", n, err)
		}
	}
	toks := []store.Token{
		{ID: "t1", Kind: store.TokenSession, User: "alice", Hash: "h1", Created: t0, Expires: t0.Add(time.Hour)},
		{ID: "t2", Kind: store.TokenAPI, Name: "ci", User: "alice", Hash: "h2", Created: t0.Add(time.Second)},
		{ID: "t3", Kind: store.TokenAPI, Name: "nb", User: "bob", Hash: "h3", Created: t0.Add(2 * time.Second),
			Expires: t0.Add(48 * time.Hour)},
	}
	for _, tok := range toks {
		if err := s.CreateToken(ctx, tok); err != nil {
			t.Fatalf("CreateToken(%s): %v", tok.ID, err)
		}
	}
	for _, tc := range []struct {
		name string
		tok  store.Token
		want error
	}{
		{"duplicate id", store.Token{ID: "t1", Kind: store.TokenAPI, User: "bob", Hash: "other"}, errdefs.ErrConflict},
		{"duplicate hash", store.Token{ID: "t9", Kind: store.TokenAPI, User: "bob", Hash: "h1"}, errdefs.ErrConflict},
		{"unknown user", store.Token{ID: "t8", Kind: store.TokenAPI, User: "nobody", Hash: "h8"}, errdefs.ErrNotFound},
	} {
		if err := s.CreateToken(ctx, tc.tok); !errors.Is(err, tc.want) {
			t.Errorf("CreateToken(%s) error = %v, want %v", tc.name, err, tc.want)
		}
	}

	if got, err := s.GetTokenByHash(ctx, "h2"); err != nil || !equalToken(got, toks[1]) {
		t.Fatalf("GetTokenByHash = %+v, %v; want %+v", got, err, toks[1])
	}
	if got, err := s.GetToken(ctx, "t1"); err != nil || !equalToken(got, toks[0]) {
		t.Fatalf("GetToken = %+v, %v; want %+v", got, err, toks[0])
	}
	if _, err := s.GetTokenByHash(ctx, "nope"); !errdefs.IsNotFound(err) {
		t.Fatalf("GetTokenByHash(missing) error = %v, want ErrNotFound", err)
	}
	if _, err := s.GetToken(ctx, "nope"); !errdefs.IsNotFound(err) {
		t.Fatalf("GetToken(missing) error = %v, want ErrNotFound", err)
	}

	for _, tc := range []struct {
		user string
		want []string
	}{{"alice", []string{"t1", "t2"}}, {"bob", []string{"t3"}}, {"", []string{"t1", "t2", "t3"}}, {"nobody", nil}} {
		list, err := s.ListTokens(ctx, tc.user)
		if err != nil {
			t.Fatalf("ListTokens(%q): %v", tc.user, err)
		}
		var ids []string
		for _, tok := range list {
			ids = append(ids, tok.ID)
		}
		if !slices.Equal(ids, tc.want) {
			t.Errorf("ListTokens(%q) = %v, want %v", tc.user, ids, tc.want)
		}
	}

	if err := s.RevokeToken(ctx, "t2"); err != nil {
		t.Fatalf("RevokeToken: %v", err)
	}
	if got, _ := s.GetToken(ctx, "t2"); !got.Revoked {
		t.Fatalf("token t2 not revoked after RevokeToken")
	}
	if err := s.RevokeToken(ctx, "nope"); !errdefs.IsNotFound(err) {
		t.Fatalf("RevokeToken(missing) error = %v, want ErrNotFound", err)
	}
	used := t0.Add(90 * time.Second)
	if err := s.TouchToken(ctx, "t1", used); err != nil {
		t.Fatalf("TouchToken: %v", err)
	}
	if got, _ := s.GetToken(ctx, "t1"); !got.LastUsed.Equal(used) {
		t.Fatalf("LastUsed = %v, want %v", got.LastUsed, used)
	}
	if err := s.TouchToken(ctx, "nope", used); !errdefs.IsNotFound(err) {
		t.Fatalf("TouchToken(missing) error = %v, want ErrNotFound", err)
	}

	// t1 expired at t0+1h; t2 never expires; t3 expires at t0+48h.
	n, err := s.DeleteExpiredTokens(ctx, t0.Add(2*time.Hour))
	if err != nil || n != 1 {
		t.Fatalf("DeleteExpiredTokens = %d, %v; want 1", n, err)
	}
	if _, err := s.GetToken(ctx, "t1"); !errdefs.IsNotFound(err) {
		t.Fatalf("expired token t1 still there: %v", err)
	}
	if _, err := s.GetToken(ctx, "t2"); err != nil {
		t.Fatalf("never-expiring token t2 deleted: %v", err)
	}

	if err := s.DeleteUser(ctx, "bob"); err != nil {
		t.Fatalf("DeleteUser: %v", err)
	}
	if _, err := s.GetToken(ctx, "t3"); !errdefs.IsNotFound(err) {
		t.Fatalf("token of deleted user still there: %v", err)
	}
}
