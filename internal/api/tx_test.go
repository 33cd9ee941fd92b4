package api_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dockyard/dockyard/internal/access"
	"github.com/dockyard/dockyard/internal/audit"
	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/index"
	"github.com/dockyard/dockyard/internal/store"
	"github.com/dockyard/dockyard/internal/telemetry"
	"github.com/dockyard/dockyard/internal/wire"
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

// wantUndone checks the answer of a change whose audit event could not be
// written: a 500 that says the change was not made.
func wantUndone(t *testing.T, what string, status int, e wire.Error) {
	t.Helper()
	if status != http.StatusInternalServerError || !strings.Contains(e.Error, "audit event could not be recorded, so its change was not made") {
		t.Fatalf("%s with no audit = %d %+v, want 500 saying the change was not made", what, status, e)
	}
}

// A login whose audit event cannot be written starts no session.
func TestLoginRollsBackWithoutItsAuditEvent(t *testing.T) {
	f := start(t, failingRecorder{})
	ctx := context.Background()
	before, err := f.db.ListTokens(ctx, "admin")
	if err != nil {
		t.Fatal(err)
	}
	status, e := f.do(t, "POST", "/v1/login", `{"user":"admin","password":"admin-password-1"}`)
	wantUndone(t, "login", status, e)
	after, err := f.db.ListTokens(ctx, "admin")
	if err != nil {
		t.Fatal(err)
	}
	if len(after) != len(before) {
		t.Fatalf("login made a session token without its audit event: %d tokens, had %d", len(after), len(before))
	}
}

// App changes whose audit events cannot be written are not made.
func TestAppChangeRollsBackWithoutItsAuditEvent(t *testing.T) {
	f := start(t, failingRecorder{})
	ctx := context.Background()
	status, e := f.do(t, "POST", "/v1/apps", `{"name":"fraud"}`)
	wantUndone(t, "app.create", status, e)
	if _, err := f.db.GetApp(ctx, "fraud"); !errdefs.IsNotFound(err) {
		t.Fatalf("the app was created without its audit event: %v", err)
	}
	now := time.Now().UTC()
	if err := f.db.CreateApp(ctx, store.App{Name: "risk", Read: []string{access.EveryoneRole}, Write: []string{access.EveryoneRole},
		CreatedBy: "admin", Created: now, Updated: now}); err != nil {
		t.Fatal(err)
	}
	status, e = f.do(t, "PATCH", "/v1/apps/risk", `{"read":["admin"]}`)
	wantUndone(t, "app.update", status, e)
	x, err := f.db.GetApp(ctx, "risk")
	if err != nil || !slices.Equal(x.Read, []string{access.EveryoneRole}) {
		t.Fatalf("the app was changed without its audit event: %+v %v", x, err)
	}
	status, e = f.do(t, "DELETE", "/v1/apps/risk", "")
	wantUndone(t, "app.delete", status, e)
	if _, err := f.db.GetApp(ctx, "risk"); err != nil {
		t.Fatalf("the app was deleted without its audit event: %v", err)
	}
}

// Index and HEC token changes whose audit events cannot be written are
// not made.
func TestIndexAndHECTokenChangesRollBackWithoutTheirAuditEvents(t *testing.T) {
	f := start(t, failingRecorder{})
	ctx := context.Background()
	status, e := f.do(t, "POST", "/v1/indexes", `{"name":"web"}`)
	wantUndone(t, "index.create", status, e)
	if _, err := f.db.GetIndex(ctx, "web"); !errdefs.IsNotFound(err) {
		t.Fatalf("the index was created without its audit event: %v", err)
	}
	if err := f.db.CreateIndex(ctx, store.IndexInfo{Name: "app1", Created: time.Now().UTC()}); err != nil {
		t.Fatal(err)
	}
	status, e = f.do(t, "DELETE", "/v1/indexes/app1", "")
	wantUndone(t, "index.delete", status, e)
	if _, err := f.db.GetIndex(ctx, "app1"); err != nil {
		t.Fatalf("the index was deleted without its audit event: %v", err)
	}

	status, e = f.do(t, "POST", "/v1/hec/tokens", `{"name":"fw","indexes":["app1"]}`)
	wantUndone(t, "hec_token.create", status, e)
	if ts, err := f.db.ListHECTokens(ctx); err != nil || len(ts) != 0 {
		t.Fatalf("the HEC token was created without its audit event: %+v %v", ts, err)
	}
	if err := f.db.CreateHECToken(ctx, store.HECToken{Name: "fw", Hash: index.HashHECToken("s"), Last4: "xxxx",
		Indexes: []string{"app1"}, DefaultIndex: "app1", Creator: "admin", Created: time.Now().UTC()}); err != nil {
		t.Fatal(err)
	}
	status, e = f.do(t, "POST", "/v1/hec/tokens/fw/disable", "")
	wantUndone(t, "hec_token.disable", status, e)
	status, e = f.do(t, "DELETE", "/v1/hec/tokens/fw", "")
	wantUndone(t, "hec_token.delete", status, e)
	ts, err := f.db.ListHECTokens(ctx)
	if err != nil || len(ts) != 1 || ts[0].Disabled {
		t.Fatalf("the HEC token was changed without its audit event: %+v %v", ts, err)
	}
}

// An observability settings change whose audit event cannot be written is
// neither saved nor applied.
func TestObservabilityChangeRollsBackWithoutItsAuditEvent(t *testing.T) {
	f := start(t, failingRecorder{})
	ctx := context.Background()
	status, e := f.do(t, "PUT", "/v1/settings/observability", `{"service_name":"elsewhere"}`)
	wantUndone(t, "observability.update", status, e)
	if v, err := f.db.GetSetting(ctx, telemetry.SettingKey); !errdefs.IsNotFound(err) {
		t.Fatalf("the settings were saved without their audit event: %q %v", v, err)
	}
	v, err := f.obs.Get(ctx)
	if err != nil || v.ServiceName != "dockyard" || v.Source != "config" {
		t.Fatalf("the settings were applied without their audit event: %+v %v", v, err)
	}
}

// A committed observability change takes effect once it commits.
func TestObservabilityChangeAppliesOnCommit(t *testing.T) {
	f := start(t, &audit.Memory{})
	ctx := context.Background()
	if status, e := f.do(t, "PUT", "/v1/settings/observability", `{"service_name":"elsewhere"}`); status != http.StatusOK {
		t.Fatalf("observability.update = %d %+v", status, e)
	}
	if _, err := f.db.GetSetting(ctx, telemetry.SettingKey); err != nil {
		t.Fatalf("the settings were not saved: %v", err)
	}
	v, err := f.obs.Get(ctx)
	if err != nil || v.ServiceName != "elsewhere" || v.Source != "settings" {
		t.Fatalf("the committed settings are not in effect: %+v %v", v, err)
	}
}
