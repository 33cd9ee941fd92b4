package server_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dockyard/dockyard/internal/access"
	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/server/servertest"
	"github.com/dockyard/dockyard/internal/wire"
)

// TestRestartKeepsState starts a server twice on one data dir: users,
// tokens and the CA survive.
func TestRestartKeepsState(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	h := servertest.StartConfig(t, servertest.Config(dir))
	fp := h.Srv.Fingerprint()
	alice := h.User("alice", access.RoleUser)
	tok, err := alice.CreateToken(ctx, wire.TokenRequest{Name: "ci", Expires: "24h"})
	if err != nil {
		t.Fatal(err)
	}
	h.Stop()

	h2 := servertest.StartConfig(t, servertest.Config(dir))
	if h2.Srv.Fingerprint() != fp {
		t.Fatalf("CA changed across restart: %s then %s", fp, h2.Srv.Fingerprint())
	}
	w, err := h2.Client(tok.Token).Whoami(ctx)
	if err != nil {
		t.Fatalf("API token after restart: %v", err)
	}
	if w.User != "alice" {
		t.Fatalf("token belongs to %q", w.User)
	}
	users, err := h2.Admin.Users(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, u := range users {
		names = append(names, u.Name)
	}
	if strings.Join(names, ",") != "admin,alice" {
		t.Fatalf("users after restart: %v", names)
	}
	st, err := os.Stat(filepath.Join(dir, "pki", "ca-key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("CA key mode %v, want 0600", st.Mode().Perm())
	}
}

// TestTokensLifecycle creates, lists and revokes an API token through the
// API; a revoked token is refused.
func TestTokensLifecycle(t *testing.T) {
	h := servertest.Start(t)
	ctx := context.Background()
	bob := h.User("bob", access.RoleUser)
	tok, err := bob.CreateToken(ctx, wire.TokenRequest{Name: "nightly"})
	if err != nil {
		t.Fatal(err)
	}
	list, err := bob.Tokens(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, k := range list {
		if k.ID == tok.ID {
			found = true
		}
	}
	if !found {
		t.Fatalf("new token %s not listed in %+v", tok.ID, list)
	}
	if _, err := bob.Tokens(ctx, true); !errdefs.IsPermissionDenied(err) {
		t.Fatalf("user listing everybody's tokens: want 403, got %v", err)
	}
	if err := bob.RevokeToken(ctx, tok.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := h.Client(tok.Token).Whoami(ctx); !errdefs.IsUnauthenticated(err) {
		t.Fatalf("revoked token: want 401, got %v", err)
	}
	// Other users' tokens are not found rather than forbidden.
	adminTok, err := h.Admin.CreateToken(ctx, wire.TokenRequest{Name: "adm"})
	if err != nil {
		t.Fatal(err)
	}
	if err := bob.RevokeToken(ctx, adminTok.ID); !errdefs.IsNotFound(err) {
		t.Fatalf("revoking another user's token: want not found, got %v", err)
	}
}

// TestLoginAndBadPassword logs in through the API; a wrong password and an
// unknown user get the same answer.
func TestLoginAndBadPassword(t *testing.T) {
	h := servertest.Start(t)
	ctx := context.Background()
	c := h.Client("")
	if _, err := c.Login(ctx, "admin", servertest.AdminPassword); err != nil {
		t.Fatal(err)
	}
	_, err1 := c.Login(ctx, "admin", "wrong-password")
	_, err2 := c.Login(ctx, "nobody", "wrong-password")
	if !errdefs.IsUnauthenticated(err1) || err1.Error() != err2.Error() {
		t.Fatalf("wrong password %v / unknown user %v: want identical 401s", err1, err2)
	}
}
