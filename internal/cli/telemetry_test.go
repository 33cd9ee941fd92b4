package cli

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/dockyard/dockyard/internal/server/servertest"
	"github.com/dockyard/dockyard/internal/telemetry/telemetrytest"
	"github.com/dockyard/dockyard/internal/wire"
)

func TestObservabilitySetShowAndMetrics(t *testing.T) {
	h := servertest.Start(t)
	col := telemetrytest.NewCollector(t)
	vars := map[string]string{
		"DOCKYARD_SERVER":     h.Srv.URL(),
		"DOCKYARD_CA_FILE":    h.Srv.CAFile(),
		"DOCKYARD_CONFIG_DIR": t.TempDir(),
	}
	if _, e, code := run(t, vars, servertest.AdminPassword+"\n", "login", "--user", "admin", "--password-stdin"); code != 0 {
		t.Fatalf("login: %s", e)
	}
	const token = "cli-otlp-token-77aa88bbQRST"
	out, e, code := run(t, vars, token+"\n", "observability", "set", "--endpoint", col.URL(), "--token-stdin", "--service-name", "dy-cli")
	if code != 0 {
		t.Fatalf("observability set: %s", e)
	}
	if strings.Contains(out+e, "77aa88bb") || !strings.Contains(out, "…QRST") {
		t.Errorf("set output shows the token or not its last four:\n%s", out)
	}
	out, e, code = run(t, vars, "", "observability", "show", "-o", "json")
	if code != 0 {
		t.Fatalf("observability show: %s", e)
	}
	var s wire.ObservabilitySettings
	if err := json.Unmarshal([]byte(out), &s); err != nil {
		t.Fatalf("show -o json is not JSON: %v\n%s", err, out)
	}
	if !s.Enabled || s.Endpoint != col.URL() || s.ServiceName != "dy-cli" || s.TokenLast4 != "…QRST" || strings.Contains(out, "77aa88bb") {
		t.Errorf("show -o json = %s", out)
	}

	if _, e, code = run(t, vars, "", "observability", "set", "--disable", "--clear-token"); code != 0 {
		t.Fatalf("disable: %s", e)
	}
	out, _, _ = run(t, vars, "", "observability", "show", "-o", "json")
	json.Unmarshal([]byte(out), &s)
	if s.Enabled || s.TokenSet {
		t.Errorf("after --disable --clear-token: %s", out)
	}

	for _, bad := range [][]string{
		{"observability", "set"},
		{"observability", "set", "--enable", "--disable"},
		{"observability", "set", "--token-stdin"}, // empty stdin
	} {
		if _, e, code := run(t, vars, "", bad...); code == 0 || !strings.Contains(e, "error:") {
			t.Errorf("%v: exit %d, stderr %q", bad, code, e)
		}
	}

	out, e, code = run(t, vars, "", "metrics")
	if code != 0 || !strings.Contains(out, `dockyard_http_requests_total{code="200",method="PUT",route="/v1/settings/observability"}`) {
		t.Errorf("metrics: exit %d, %s\n%s", code, e, out)
	}
}
