package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dockyard/dockyard/internal/access"
	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/server/servertest"
	"github.com/dockyard/dockyard/internal/telemetry/telemetrytest"
	"github.com/dockyard/dockyard/internal/wire"
)

func TestMetricsNeedTokenAndCapability(t *testing.T) {
	h := servertest.Start(t)
	ctx := context.Background()

	_, err := h.Client("").Metrics(ctx)
	if !errdefs.IsUnauthenticated(err) {
		t.Fatalf("/metrics without a token: %v, want 401", err)
	}
	_, err = h.User("plain", access.RoleUser).Metrics(ctx)
	if !errdefs.IsPermissionDenied(err) || !strings.Contains(err.Error(), string(access.CapConfigureContainer)) {
		t.Fatalf("/metrics without %s: %v, want 403 naming it", access.CapConfigureContainer, err)
	}

	c := h.User("ops", access.RoleContainerAdmin)
	if _, err := c.Whoami(ctx); err != nil {
		t.Fatal(err)
	}
	bad := h.Client("")
	if _, err := bad.Login(ctx, "ops", "wrong-password"); !errdefs.IsUnauthenticated(err) {
		t.Fatalf("bad login: %v", err)
	}
	out, err := c.Metrics(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`dockyard_http_requests_total{code="200",method="GET",route="/v1/whoami"}`,
		`dockyard_http_requests_total{code="401",method="GET",route="/metrics"} 1`,
		`dockyard_http_requests_total{code="403",method="GET",route="/metrics"} 1`,
		`dockyard_http_request_duration_seconds_bucket{code="200",method="GET",route="/v1/whoami",le="+Inf"}`,
		`dockyard_login_failures_total 1`,
		`go_goroutines`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

func TestObservabilitySettingsRoundTrip(t *testing.T) {
	h := servertest.Start(t)
	ctx := context.Background()
	col := telemetrytest.NewCollector(t)

	got, err := h.Admin.Observability(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got.Enabled || got.TokenSet || got.Source != "config" || got.ServiceName != "dockyard" {
		t.Fatalf("default settings = %+v", got)
	}
	if h.Srv.Tracing().Enabled() {
		t.Fatal("tracing must be off by default")
	}
	_, err = h.User("someone", access.RoleContainerUser).SetObservability(ctx, wire.ObservabilityUpdate{Enabled: obsPtr(false)})
	if !errdefs.IsPermissionDenied(err) || !strings.Contains(err.Error(), string(access.CapConfigureContainer)) {
		t.Fatalf("set without %s: %v", access.CapConfigureContainer, err)
	}

	// Off: requests make no export.
	h.Admin.Whoami(ctx)
	h.Srv.Tracing().ForceFlush(ctx)

	const token = "otlp-secret-token-5f3a9c1e7b2d4wxyz"
	ops := h.User("ops", access.RoleContainerAdmin)
	got, err = ops.SetObservability(ctx, wire.ObservabilityUpdate{
		Enabled: obsPtr(true), Endpoint: obsPtr(col.URL()), Token: obsPtr(token), ServiceName: obsPtr("dockyard-e2e")})
	if err != nil {
		t.Fatal(err)
	}
	want := wire.ObservabilitySettings{Enabled: true, Endpoint: col.URL(), ServiceName: "dockyard-e2e",
		TokenHeader: "Authorization", TokenSet: true, TokenLast4: "…wxyz", Source: "settings", UpdatedBy: "ops"}
	got.Updated = time.Time{}
	if got != want {
		t.Errorf("after set:\n got %+v\nwant %+v", got, want)
	}
	if col.Requests() != 0 {
		t.Errorf("%d exports while tracing was off", col.Requests())
	}

	// On: an API request becomes a span with the route, exported with the token.
	if _, err := ops.Whoami(ctx); err != nil {
		t.Fatal(err)
	}
	if err := h.Srv.Tracing().ForceFlush(ctx); err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	spans := col.WaitFor(wctx, func(s []telemetrytest.Span) bool { return hasSpan(s, "GET /v1/whoami") })
	if !hasSpan(spans, "GET /v1/whoami") {
		t.Fatalf("no span for GET /v1/whoami among %+v", spans)
	}
	for _, s := range spans {
		if s.ServiceName != "dockyard-e2e" {
			t.Errorf("span %q has service.name %q", s.Name, s.ServiceName)
		}
	}
	if a := col.Headers()[0].Get("Authorization"); a != "Bearer "+token {
		t.Errorf("export Authorization header = %q", a)
	}

	// Disabled again: no more exports.
	if _, err := ops.SetObservability(ctx, wire.ObservabilityUpdate{Enabled: obsPtr(false)}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond) // the old exporter flushes in the background
	n := len(col.Spans())
	ops.Whoami(ctx)
	h.Srv.Tracing().ForceFlush(ctx)
	time.Sleep(100 * time.Millisecond)
	if m := len(col.Spans()); m != n {
		t.Errorf("%d spans exported after disabling", m-n)
	}

	// GET never shows the token.
	raw, err := ops.Raw(ctx, "GET", "/v1/settings/observability", nil, "")
	if err != nil {
		t.Fatal(err)
	}
	var body bytes.Buffer
	body.ReadFrom(raw.Body)
	raw.Body.Close()
	if strings.Contains(body.String(), "5f3a9c1e") {
		t.Errorf("GET shows the token: %s", body.String())
	}
	var shown wire.ObservabilitySettings
	json.Unmarshal(body.Bytes(), &shown)
	if shown.TokenLast4 != "…wxyz" || !shown.TokenSet || shown.Enabled {
		t.Errorf("GET = %+v", shown)
	}

	// The audit trail has the update without the token.
	var exp bytes.Buffer
	if err := h.Srv.AuditLog().Export(ctx, &exp); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(exp.String(), "observability.update") {
		t.Error("no observability.update audit event")
	}
	if strings.Contains(exp.String(), "5f3a9c1e") {
		t.Error("the audit trail holds the observability token")
	}

	// At rest the token is sealed: no file of the data dir holds it.
	h.Stop()
	assertNotOnDisk(t, h.Data, "5f3a9c1e")
}

func TestObservabilitySettingsSurviveRestart(t *testing.T) {
	dir := t.TempDir()
	col := telemetrytest.NewCollector(t)
	ctx := context.Background()
	h := servertest.StartConfig(t, servertest.Config(dir))
	if _, err := h.Admin.SetObservability(ctx, wire.ObservabilityUpdate{
		Enabled: obsPtr(true), Endpoint: obsPtr(col.URL()), Token: obsPtr("tok-restart-1234"), TokenHeader: obsPtr("x-api-key")}); err != nil {
		t.Fatal(err)
	}
	h.Stop()
	h2 := servertest.StartConfig(t, servertest.Config(dir))
	if !h2.Srv.Tracing().Enabled() {
		t.Fatal("tracing should be on again after a restart")
	}
	got, err := h2.Admin.Observability(ctx)
	if err != nil || got.TokenLast4 != "…1234" || got.TokenHeader != "X-Api-Key" && got.TokenHeader != "x-api-key" {
		t.Fatalf("after restart: %+v, %v", got, err)
	}
	h2.Admin.Whoami(ctx)
	h2.Srv.Tracing().ForceFlush(ctx)
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	col.WaitFor(wctx, func(s []telemetrytest.Span) bool { return hasSpan(s, "GET /v1/whoami") })
	hs := col.Headers()
	if len(hs) == 0 || hs[0].Get("X-Api-Key") != "tok-restart-1234" {
		t.Fatalf("exports after restart: %d, headers %v", len(hs), hs)
	}
}

func TestBadObservabilitySettingsAreRefused(t *testing.T) {
	h := servertest.Start(t)
	ctx := context.Background()
	for _, u := range []wire.ObservabilityUpdate{
		{Enabled: obsPtr(true)}, // no endpoint
		{Enabled: obsPtr(true), Endpoint: obsPtr("http://collector.example:4318"), Token: obsPtr("tok-plain-http")},
		{Enabled: obsPtr(true), Endpoint: obsPtr("gopher://x")},
	} {
		if _, err := h.Admin.SetObservability(ctx, u); !errdefs.IsInvalid(err) {
			t.Errorf("%+v: %v, want invalid", u, err)
		} else if strings.Contains(err.Error(), "tok-plain-http") {
			t.Errorf("error shows the token: %v", err)
		}
	}
	if got, _ := h.Admin.Observability(ctx); got.Enabled || got.Source != "config" {
		t.Errorf("refused updates changed the settings: %+v", got)
	}
}

func hasSpan(spans []telemetrytest.Span, name string) bool {
	for _, s := range spans {
		if s.Name == name {
			return true
		}
	}
	return false
}

func obsPtr[T any](v T) *T { return &v }

// assertNotOnDisk fails when any file under dir contains needle.
func assertNotOnDisk(t *testing.T, dir, needle string) {
	t.Helper()
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err == nil && bytes.Contains(b, []byte(needle)) {
			t.Errorf("%s holds the secret in clear", p)
		}
		return nil
	})
}
