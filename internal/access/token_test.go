package access

import (
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/store"
)

func TestNewSecret(t *testing.T) {
	seen := map[string]bool{}
	for _, tc := range []struct{ kind, prefix string }{{store.TokenSession, "dys_"}, {store.TokenAPI, "dyt_"}} {
		for i := 0; i < 50; i++ {
			secret, hash, id, err := NewSecret(tc.kind)
			if err != nil {
				t.Fatal(err)
			}
			if !regexp.MustCompile(`^` + tc.prefix + `[A-Za-z0-9_-]{43}$`).MatchString(secret) {
				t.Fatalf("secret %q: want %s + 43 base64url characters", secret, tc.prefix)
			}
			if !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(hash) || hash != HashSecret(secret) {
				t.Fatalf("hash %q is not the hex SHA-256 of the secret", hash)
			}
			if !regexp.MustCompile(`^[0-9a-f]{16}$`).MatchString(id) || strings.Contains(secret, id) {
				t.Fatalf("id %q: want 16 hex digits unrelated to the secret", id)
			}
			if seen[secret] || seen[id] {
				t.Fatalf("repeated secret or id")
			}
			seen[secret], seen[id] = true, true
			if !wellFormedSecret(secret) {
				t.Fatalf("wellFormedSecret(%q) = false", secret)
			}
		}
	}
	if _, _, _, err := NewSecret("hec"); err == nil {
		t.Fatalf("NewSecret(unknown kind) succeeded")
	}
	for _, bad := range []string{"", "dys_", "dyx_" + strings.Repeat("A", 43), "dys_" + strings.Repeat("!", 43), "dys_" + strings.Repeat("A", 44)} {
		if wellFormedSecret(bad) {
			t.Errorf("wellFormedSecret(%q) = true", bad)
		}
	}
}

func TestAuthenticateExpiryAndRevocation(t *testing.T) {
	f := newFixture(t)
	f.addUser(t, "alice", RoleUser)
	secret, tok, err := f.svc.Login(f.ctx, "alice", "alice-password", "")
	if err != nil {
		t.Fatal(err)
	}
	if tok.Hash != "" || !tok.Expires.Equal(f.clock.Now().Add(sessionTTL)) || tok.Kind != store.TokenSession {
		t.Fatalf("session token %+v: want no hash, expiry after the session TTL", tok)
	}
	p, err := f.svc.Authenticate(f.ctx, secret, "")
	if err != nil || p.User != "alice" || p.TokenID != tok.ID || !p.Can(CapSearch) {
		t.Fatalf("Authenticate = %+v, %v", p, err)
	}

	// Last use is recorded at most once a minute.
	lastUsed := func() time.Time { got, _ := f.st.GetToken(f.ctx, tok.ID); return got.LastUsed }
	first := lastUsed()
	if !first.Equal(f.clock.Now()) {
		t.Fatalf("LastUsed = %v, want %v", first, f.clock.Now())
	}
	f.clock.Advance(30 * time.Second)
	f.svc.Authenticate(f.ctx, secret, "")
	if !lastUsed().Equal(first) {
		t.Fatalf("LastUsed written again within a minute")
	}
	f.clock.Advance(31 * time.Second)
	f.svc.Authenticate(f.ctx, secret, "")
	if !lastUsed().Equal(f.clock.Now()) {
		t.Fatalf("LastUsed not written after a minute")
	}

	// Tampered and unknown secrets.
	for _, bad := range []string{"", "garbage", secret[:len(secret)-1] + "x", "dyt_" + secret[4:]} {
		if _, err := f.svc.Authenticate(f.ctx, bad, ""); !errdefs.IsUnauthenticated(err) {
			t.Errorf("Authenticate(%q) error = %v, want ErrUnauthenticated", bad, err)
		}
	}

	// Expiry.
	f.clock.Advance(sessionTTL)
	if _, err := f.svc.Authenticate(f.ctx, secret, ""); !errdefs.IsUnauthenticated(err) || !strings.Contains(err.Error(), "expired") {
		t.Fatalf("expired token: %v; want ErrUnauthenticated saying expired", err)
	}
	if n, err := f.svc.PruneTokens(f.ctx); err != nil || n != 1 {
		t.Fatalf("PruneTokens = %d, %v; want 1", n, err)
	}

	// Revocation via logout.
	secret2, _, _ := f.svc.Login(f.ctx, "alice", "alice-password", "")
	p2, err := f.svc.Authenticate(f.ctx, secret2, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := f.svc.Logout(f.ctx, p2); err != nil {
		t.Fatalf("Logout: %v", err)
	}
	if _, err := f.svc.Authenticate(f.ctx, secret2, ""); !errdefs.IsUnauthenticated(err) || !strings.Contains(err.Error(), "revoked") {
		t.Fatalf("token after logout: %v; want ErrUnauthenticated saying revoked", err)
	}
}

func TestAPITokenOwnership(t *testing.T) {
	f := newFixture(t)
	f.addUser(t, "alice", RoleUser)
	f.addUser(t, "bob", RoleUser)
	if _, err := f.svc.AddRole(f.ctx, store.Role{Name: "tokenless", Capabilities: []string{"search"}}); err != nil {
		t.Fatal(err)
	}
	f.addUser(t, "carl", "tokenless")
	alice, _ := f.login(t, "alice")
	bob, _ := f.login(t, "bob")
	carl, _ := f.login(t, "carl")
	admin, _ := f.login(t, "admin")

	secret, tok, err := f.svc.CreateAPIToken(f.ctx, alice, "ci", 720*time.Hour)
	if err != nil || !strings.HasPrefix(secret, APIPrefix) || tok.Name != "ci" || tok.Hash != "" {
		t.Fatalf("CreateAPIToken = %q, %+v, %v", secret, tok, err)
	}
	if _, err := f.svc.CreateApp(f.ctx, "dsdl", nil, nil, "admin"); err != nil {
		t.Fatal(err)
	}
	if p, err := f.svc.Authenticate(f.ctx, secret, "dsdl"); err != nil || p.User != "alice" || p.App != "dsdl" {
		t.Fatalf("Authenticate(API token) = %+v, %v", p, err)
	}
	// Logout does not end API tokens.
	apiP, _ := f.svc.Authenticate(f.ctx, secret, "")
	if err := f.svc.Logout(f.ctx, apiP); !errdefs.IsInvalid(err) {
		t.Fatalf("Logout with an API token: %v; want ErrInvalid", err)
	}

	for _, tc := range []struct {
		name string
		err  error
		kind error
	}{
		{"no capability", second(f.svc.CreateAPIToken(f.ctx, carl, "x", 0)), errdefs.ErrPermissionDenied},
		{"empty name", second(f.svc.CreateAPIToken(f.ctx, alice, "", 0)), errdefs.ErrInvalid},
		{"control char", second(f.svc.CreateAPIToken(f.ctx, alice, "a\nb", 0)), errdefs.ErrInvalid},
		{"negative ttl", second(f.svc.CreateAPIToken(f.ctx, alice, "x", -time.Hour)), errdefs.ErrInvalid},
		{"ttl above the limit", second(f.svc.CreateAPIToken(f.ctx, alice, "x", apiTokenMaxTTL+time.Second)), errdefs.ErrInvalid},
		{"list others without edit_tokens_all", listErr(f.svc.ListTokens(f.ctx, bob, "alice")), errdefs.ErrPermissionDenied},
		{"bob revokes alice's token", f.svc.RevokeToken(f.ctx, bob, tok.ID), errdefs.ErrNotFound},
		{"revoke unknown", f.svc.RevokeToken(f.ctx, admin, "0000"), errdefs.ErrNotFound},
	} {
		if !errors.Is(tc.err, tc.kind) {
			t.Errorf("%s: error = %v, want %v", tc.name, tc.err, tc.kind)
		}
	}
	// bob's refused revoke left the token working.
	if _, err := f.svc.Authenticate(f.ctx, secret, ""); err != nil {
		t.Fatalf("token revoked by someone without the right: %v", err)
	}

	own, err := f.svc.ListTokens(f.ctx, alice, "")
	if err != nil || len(own) != 2 { // the session and the API token
		t.Fatalf("ListTokens(own) = %d tokens, %v; want 2", len(own), err)
	}
	all, err := f.svc.ListTokens(f.ctx, admin, "*")
	if err != nil || len(all) != 5 {
		t.Fatalf("ListTokens(admin, *) = %d tokens, %v; want 5", len(all), err)
	}
	for _, tok := range all {
		if tok.Hash != "" {
			t.Fatalf("ListTokens returned a hash")
		}
	}

	// Own token with edit_tokens_own; others' with edit_tokens_all.
	_, tok2, _ := f.svc.CreateAPIToken(f.ctx, alice, "nb", 0)
	if !tok2.Expires.Equal(f.clock.Now().Add(apiTokenMaxTTL)) {
		t.Errorf("token created with ttl 0 expires %v, want the limit %v from now", tok2.Expires, apiTokenMaxTTL)
	}
	if err := f.svc.RevokeToken(f.ctx, alice, tok2.ID); err != nil {
		t.Fatalf("alice revokes her own token: %v", err)
	}
	if err := f.svc.RevokeToken(f.ctx, admin, tok.ID); err != nil {
		t.Fatalf("admin revokes alice's token: %v", err)
	}
	if _, err := f.svc.Authenticate(f.ctx, secret, ""); !errdefs.IsUnauthenticated(err) {
		t.Fatalf("revoked API token still authenticates: %v", err)
	}
	// carl (no edit_tokens_own) may not revoke even his own session.
	if err := f.svc.RevokeToken(f.ctx, carl, carl.TokenID); !errdefs.IsPermissionDenied(err) {
		t.Fatalf("carl revokes own token: %v; want ErrPermissionDenied", err)
	}
}

func second[T any](_ T, _ store.Token, err error) error { return err }

func listErr(_ []store.Token, err error) error { return err }

// BenchmarkAuthenticate measures the per-request cost of a bearer token on
// the SQLite store: hash, lookup, user and role expansion.
func BenchmarkAuthenticate(b *testing.B) {
	f := newFixture(b)
	secret, _, err := f.svc.Login(f.ctx, AdminUser, "admin-password", "")
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := f.svc.Authenticate(f.ctx, secret, ""); err != nil {
			b.Fatal(err)
		}
	}
}

// TestTokenFromTokenCannotOutliveIt: an API token cannot mint a token that
// lives longer than itself; a session can, up to the configured maximum.
func TestTokenFromTokenCannotOutliveIt(t *testing.T) {
	f := newFixture(t)
	f.addUser(t, "alice", RoleUser)
	session, _, err := f.svc.Login(f.ctx, "alice", "alice-password", "")
	if err != nil {
		t.Fatal(err)
	}
	ps, err := f.svc.Authenticate(f.ctx, session, "")
	if err != nil {
		t.Fatal(err)
	}
	short, _, err := f.svc.CreateAPIToken(f.ctx, ps, "short", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	pt, err := f.svc.Authenticate(f.ctx, short, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.svc.CreateAPIToken(f.ctx, pt, "longer", 24*time.Hour); !errdefs.IsInvalid(err) || !strings.Contains(err.Error(), "left to the API token") {
		t.Fatalf("token minting a longer one: %v", err)
	}
	_, tok, err := f.svc.CreateAPIToken(f.ctx, pt, "default", 0)
	if err != nil {
		t.Fatal(err)
	}
	if want := f.clock.Now().Add(time.Hour); tok.Expires.After(want) {
		t.Fatalf("token made by a token expires %v, after its maker's %v", tok.Expires, want)
	}
	if _, _, err := f.svc.CreateAPIToken(f.ctx, ps, "from-session", 24*time.Hour); err != nil {
		t.Fatalf("a session creating a day-long token: %v", err)
	}
}
