package telemetry_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/telemetry"
)

func TestNewLogger(t *testing.T) {
	tests := []struct {
		level, format string
		wantDebug     bool
		wantInfo      bool
	}{
		{"debug", "text", true, true},
		{"info", "text", false, true},
		{"INFO", "json", false, true},
		{"warn", "json", false, false},
		{"error", "text", false, false},
	}
	for _, tc := range tests {
		var buf bytes.Buffer
		log, err := telemetry.NewLogger(&buf, tc.level, tc.format)
		if err != nil {
			t.Fatalf("NewLogger(%q, %q): %v", tc.level, tc.format, err)
		}
		log.Debug("dbg-record")
		log.Info("info-record", "model", "IrisModel")
		out := buf.String()
		if got := strings.Contains(out, "dbg-record"); got != tc.wantDebug {
			t.Errorf("%s/%s: debug logged = %v, want %v", tc.level, tc.format, got, tc.wantDebug)
		}
		if got := strings.Contains(out, "info-record"); got != tc.wantInfo {
			t.Errorf("%s/%s: info logged = %v, want %v", tc.level, tc.format, got, tc.wantInfo)
		}
		if tc.format == "json" && out != "" {
			var rec map[string]any
			if err := json.Unmarshal([]byte(strings.SplitN(out, "\n", 2)[0]), &rec); err != nil || rec["model"] != "IrisModel" {
				t.Errorf("json output %q: %v", out, err)
			}
		}
	}
}

func TestNewLoggerRejects(t *testing.T) {
	for _, tc := range [][2]string{{"loud", "text"}, {"info", "xml"}, {"", "text"}} {
		if _, err := telemetry.NewLogger(&bytes.Buffer{}, tc[0], tc[1]); !errdefs.IsInvalid(err) {
			t.Errorf("NewLogger(%q, %q) error = %v, want ErrInvalid", tc[0], tc[1], err)
		}
	}
}

func TestDiscard(t *testing.T) {
	log := telemetry.Discard()
	log.With("k", "v").WithGroup("g").Error("dropped")
	if log.Enabled(t.Context(), 12) {
		t.Error("Discard logger reports enabled")
	}
}
