package agent_test

import (
	"crypto/tls"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/dockyard/dockyard/internal/agent"
	"github.com/dockyard/dockyard/internal/agent/agenttest"
)

// --client-ca turns on mutual TLS: the agent requires and verifies client
// certificates of that CA; without it, it asks for none.
func TestTLSConfigClientCA(t *testing.T) {
	ca := agenttest.NewCA(t)
	dir := t.TempDir()
	certPEM, keyPEM, err := ca.IssueServer("agent", []string{"127.0.0.1"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	base := agent.Config{CertFile: write("cert.pem", certPEM), KeyFile: write("key.pem", keyPEM)}
	tests := []struct {
		name     string
		clientCA string
		wantAuth tls.ClientAuthType
		wantErr  bool
	}{
		{"no client CA", "", tls.NoClientCert, false},
		{"client CA", write("ca.pem", ca.CertPEM), tls.RequireAndVerifyClientCert, false},
		{"client CA not PEM", write("bad.pem", []byte("not pem")), 0, true},
		{"client CA missing", filepath.Join(dir, "absent.pem"), 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := base
			cfg.ClientCAFile = tc.clientCA
			tc2, err := agent.TLSConfig(cfg)
			if (err != nil) != tc.wantErr {
				t.Fatalf("TLSConfig: %v, want error %t", err, tc.wantErr)
			}
			if err == nil && (tc2.ClientAuth != tc.wantAuth || (tc.clientCA != "") != (tc2.ClientCAs != nil)) {
				t.Errorf("ClientAuth %v, ClientCAs set %t; want %v", tc2.ClientAuth, tc2.ClientCAs != nil, tc.wantAuth)
			}
		})
	}
}
