package telemetry_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/secrets"
	"github.com/dockyard/dockyard/internal/telemetry"
	"github.com/dockyard/dockyard/internal/telemetry/telemetrytest"
)

// memStore is a hand-written SettingsStore.
type memStore struct {
	mu   sync.Mutex
	m    map[string]string
	fail error
}

func (s *memStore) GetSetting(_ context.Context, k string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.m[k]
	if !ok {
		return "", errdefs.NotFound("setting " + k)
	}
	return v, nil
}

func (s *memStore) PutSetting(_ context.Context, k, v string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil {
		return s.fail
	}
	if s.m == nil {
		s.m = map[string]string{}
	}
	s.m[k] = v
	return nil
}

// InTx runs fn as is: the memory store has no transactions.
func (s *memStore) InTx(ctx context.Context, fn func(ctx context.Context) error) error {
	return fn(ctx)
}

func ptr[T any](v T) *T { return &v }

func TestObservabilityRoundTripSealsToken(t *testing.T) {
	ctx := context.Background()
	col := telemetrytest.NewCollector(t)
	st := &memStore{}
	box, _ := secrets.New(secrets.GenerateKey())
	tr := telemetry.NewTracing(testLog(t), nil, telemetry.TracingOptions{})
	defer tr.Shutdown(ctx)
	o := telemetry.NewObservability(st, box, tr, telemetry.Settings{ServiceName: "dockyard"})
	if err := o.Start(ctx); err != nil {
		t.Fatal(err)
	}
	v, _ := o.Get(ctx)
	if v.Enabled || v.Source != "config" || v.ServiceName != "dockyard" || tr.Enabled() {
		t.Fatalf("initial view = %+v", v)
	}
	const token = "otlp-token-0123456789wxyz"
	v, err := o.Put(ctx, "admin", telemetry.Update{Enabled: ptr(true), Endpoint: ptr(col.URL()), Token: ptr(token), ServiceName: ptr("svc")})
	if err != nil {
		t.Fatal(err)
	}
	if !v.Enabled || !v.TokenSet || v.TokenLast4 != "…wxyz" || v.UpdatedBy != "admin" || v.Source != "settings" || v.TokenHeader != "Authorization" {
		t.Errorf("view after put = %+v", v)
	}
	if !tr.Enabled() {
		t.Error("Put should turn tracing on at once")
	}
	raw := st.m[telemetry.SettingKey]
	if strings.Contains(raw, token) || strings.Contains(raw, "0123456789") || !strings.Contains(raw, "dy1:") {
		t.Fatalf("stored settings hold the token in clear or not sealed: %s", raw)
	}

	// Changing only the service name keeps the token.
	if v, err = o.Put(ctx, "admin", telemetry.Update{ServiceName: ptr("svc2")}); err != nil || v.TokenLast4 != "…wxyz" {
		t.Fatalf("put service name: %+v, %v", v, err)
	}

	// A new server on the same store and key comes back with the settings.
	tr2 := telemetry.NewTracing(testLog(t), nil, telemetry.TracingOptions{})
	defer tr2.Shutdown(ctx)
	o2 := telemetry.NewObservability(st, box, tr2, telemetry.Settings{ServiceName: "dockyard"})
	if err := o2.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if v2, _ := o2.Get(ctx); !v2.Enabled || v2.ServiceName != "svc2" || v2.TokenLast4 != "…wxyz" || !tr2.Enabled() {
		t.Errorf("reloaded view = %+v", v2)
	}
	_, span := tr2.Tracer("t").Start(ctx, "after-restart")
	span.End()
	tr2.ForceFlush(ctx)
	spans := col.WaitFor(waitCtx(t), func(s []telemetrytest.Span) bool { return len(s) >= 1 })
	if len(spans) == 0 || spans[0].ServiceName != "svc2" || col.Headers()[0].Get("Authorization") != "Bearer "+token {
		t.Errorf("export after restart: %+v", spans)
	}

	// Another key cannot open the token, and says what to do.
	other, _ := secrets.New(secrets.GenerateKey())
	o3 := telemetry.NewObservability(st, other, telemetry.NewTracing(testLog(t), nil, telemetry.TracingOptions{}), telemetry.Settings{})
	if err := o3.Start(ctx); err == nil || !strings.Contains(err.Error(), "--token-stdin") || strings.Contains(err.Error(), token) {
		t.Errorf("start with another key: %v", err)
	}

	// Clearing the token and disabling.
	if v, err = o.Put(ctx, "admin", telemetry.Update{Enabled: ptr(false), Token: ptr("")}); err != nil || v.TokenSet || v.Enabled {
		t.Fatalf("disable: %+v, %v", v, err)
	}
	if tr.Enabled() {
		t.Error("tracing still on after disabling")
	}
}

func TestObservabilityPutChangesNothingOnError(t *testing.T) {
	ctx := context.Background()
	st := &memStore{}
	box, _ := secrets.New(secrets.GenerateKey())
	tr := telemetry.NewTracing(testLog(t), nil, telemetry.TracingOptions{})
	defer tr.Shutdown(ctx)
	o := telemetry.NewObservability(st, box, tr, telemetry.Settings{})
	if err := o.Start(ctx); err != nil {
		t.Fatal(err)
	}
	_, err := o.Put(ctx, "admin", telemetry.Update{Enabled: ptr(true), Endpoint: ptr("http://collector.example:4318"), Token: ptr("tok-123456")})
	if !errdefs.IsInvalid(err) {
		t.Fatalf("token over plain http to a remote host: %v", err)
	}
	st.fail = errdefs.Unavailable("disk full")
	if _, err = o.Put(ctx, "admin", telemetry.Update{Enabled: ptr(true), Endpoint: ptr("https://collector.example")}); !errdefs.IsUnavailable(err) {
		t.Fatalf("store failure: %v", err)
	}
	if v, _ := o.Get(ctx); v.Enabled || v.Endpoint != "" || tr.Enabled() {
		t.Errorf("a failed put changed the settings: %+v", v)
	}
}
