package telemetry_test

import (
	"strings"
	"testing"

	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/telemetry"
)

func TestSettingsValidateAndURL(t *testing.T) {
	tests := []struct {
		name    string
		s       telemetry.Settings
		url     string // "" when invalid
		invalid string // part of the error
	}{
		{"off and empty", telemetry.Settings{}, "", ""},
		{"host:port means https", telemetry.Settings{Enabled: true, Endpoint: "otel.example:4318", Token: "t"}, "https://otel.example:4318/v1/traces", ""},
		{"url path kept", telemetry.Settings{Enabled: true, Endpoint: "https://x.example/otlp/v1/traces"}, "https://x.example/otlp/v1/traces", ""},
		{"http to loopback with token", telemetry.Settings{Enabled: true, Endpoint: "http://127.0.0.1:4318", Token: "t"}, "http://127.0.0.1:4318/v1/traces", ""},
		{"http elsewhere without token", telemetry.Settings{Enabled: true, Endpoint: "http://collector:4318"}, "http://collector:4318/v1/traces", ""},
		{"http elsewhere with token", telemetry.Settings{Enabled: true, Endpoint: "http://collector:4318", Token: "t"}, "", "plain http"},
		{"enabled without endpoint", telemetry.Settings{Enabled: true}, "", "no endpoint"},
		{"credentials in url", telemetry.Settings{Enabled: true, Endpoint: "https://u:p@x.example"}, "", "credentials"},
		{"not a url", telemetry.Settings{Enabled: true, Endpoint: "ftp://x"}, "", "neither"},
		{"bad header", telemetry.Settings{Enabled: true, Endpoint: "x:1", TokenHeader: "bad header"}, "", "header"},
		{"newline in token", telemetry.Settings{Enabled: true, Endpoint: "x:1", Token: "a\nb"}, "", "one line"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.s.Validate()
			if tc.invalid != "" {
				if !errdefs.IsInvalid(err) || !strings.Contains(err.Error(), tc.invalid) {
					t.Fatalf("Validate = %v, want invalid with %q", err, tc.invalid)
				}
				if tc.s.Token != "" && strings.Contains(err.Error(), tc.s.Token) && len(tc.s.Token) > 2 {
					t.Errorf("error shows the token: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Validate: %v", err)
			}
			if tc.url == "" {
				return
			}
			u, err := tc.s.TraceURL()
			if err != nil || u.String() != tc.url {
				t.Errorf("TraceURL = %v, %v; want %s", u, err, tc.url)
			}
		})
	}
}

func TestSettingsStringHidesToken(t *testing.T) {
	s := telemetry.Settings{Enabled: true, Endpoint: "x:1", Token: "very-secret-token"}
	if strings.Contains(s.String(), "very-secret") {
		t.Fatalf("String shows the token: %s", s)
	}
}
