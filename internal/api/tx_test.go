package api_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/dockyard/dockyard/internal/errdefs"
)

// An account change whose audit event cannot be written is not made.
func TestAccountChangeRollsBackWithoutItsAuditEvent(t *testing.T) {
	f := start(t, failingRecorder{})
	ctx := context.Background()
	status, e := f.do(t, "POST", "/v1/users", `{"name":"mallory","password":"a-long-password-1","roles":["user"]}`)
	if status != http.StatusInternalServerError || !strings.Contains(e.Error, "audit event could not be recorded, so its change was not made") {
		t.Fatalf("user.create with no audit = %d %+v, want 500 naming the audit failure", status, e)
	}
	if _, err := f.db.GetUser(ctx, "mallory"); !errdefs.IsNotFound(err) {
		t.Fatalf("the user was created without its audit event: %v", err)
	}
	if status, _ := f.do(t, "POST", "/v1/roles", `{"name":"r1","capabilities":["search"]}`); status != http.StatusInternalServerError {
		t.Fatalf("role.create with no audit = %d, want 500", status)
	}
	if _, err := f.db.GetRole(ctx, "r1"); !errdefs.IsNotFound(err) {
		t.Fatalf("the role was created without its audit event: %v", err)
	}
	if status, _ := f.do(t, "POST", "/v1/tokens", `{"name":"t2"}`); status != http.StatusInternalServerError {
		t.Fatalf("token.create with no audit = %d, want 500", status)
	}
	ts, err := f.db.ListTokens(ctx, "admin")
	if err != nil {
		t.Fatal(err)
	}
	for _, tok := range ts {
		if tok.Name == "t2" {
			t.Fatal("the token was created without its audit event")
		}
	}
}
