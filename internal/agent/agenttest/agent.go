package agenttest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/dockyard/dockyard/internal/agent"
	"github.com/dockyard/dockyard/internal/agent/internal/testlog"
	"github.com/dockyard/dockyard/internal/telemetry"
)

// Agent is a running agent for a test.
type Agent struct {
	URL    string       // https://127.0.0.1:PORT
	Token  string       // its bearer token
	Root   string       // its container root
	Client *http.Client // trusts its certificate
	CA     *CA
}

// Options for Start.
type Options struct {
	Python       string // "" means python3
	Pandas       string
	MaxBodyBytes int64
	Tracing      *telemetry.Tracing // the agent's span exporter; nil: off
	// JupyterBaseURL makes it a development container running Jupyter.
	JupyterBaseURL string
}

// Start runs an agent in the test's process over real TLS, stopping it when
// the test ends.
func Start(t testing.TB, opts Options) *Agent {
	t.Helper()
	ca := NewCA(t)
	dir := t.TempDir()
	certPEM, keyPEM, err := ca.IssueServer("agent", []string{"127.0.0.1"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, keyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	tok := make([]byte, 24)
	_, _ = rand.Read(tok)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	a := &Agent{URL: "https://" + ln.Addr().String(), Token: hex.EncodeToString(tok), Root: filepath.Join(dir, "root"), Client: ca.Client(), CA: ca}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		errc <- agent.Run(ctx, agent.Config{Listener: ln, CertFile: certFile, KeyFile: keyFile, Token: a.Token,
			Root: a.Root, Python: opts.Python, Pandas: opts.Pandas, MaxBodyBytes: opts.MaxBodyBytes, Logger: testlog.New(t), Tracing: opts.Tracing,
			JupyterBaseURL: opts.JupyterBaseURL})
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-errc:
			if err != nil {
				t.Errorf("agent.Run: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Errorf("agent did not stop within 10s")
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := a.Client.Get(a.URL + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return a
			}
		}
		select {
		case err := <-errc:
			t.Fatalf("agent stopped: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("agent not healthy after 30s: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Do sends a request with the agent's token.
func (a *Agent) Do(t testing.TB, method, path string, body []byte, header map[string]string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, a.URL+path, bytesReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+a.Token)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := a.Client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	return resp
}
