package process_test

import (
	"context"
	"crypto/tls"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/dockyard/dockyard/internal/agent/agentclient"
	"github.com/dockyard/dockyard/internal/agent/agenttest"
	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/runtime"
	"github.com/dockyard/dockyard/internal/runtime/process"
)

// newMutualRuntime is newRuntime with mutual TLS: agents require client
// certificates of ca, and the readiness probe presents cert.
func newMutualRuntime(t *testing.T, base string, ca *agenttest.CA, cert tls.Certificate) *process.Runtime {
	t.Helper()
	rt, err := process.New(process.Config{
		BaseDir: base,
		Issuer:  ca,
		Command: func(args []string) *exec.Cmd {
			cmd := exec.Command(os.Args[0], args...)
			cmd.Env = []string{"DOCKYARD_TEST_AGENT=1"}
			return cmd
		},
		Python:       python(t),
		StartTimeout: 30 * time.Second,
		ClientCAPEM:  ca.CertPEM,
		ClientCert:   &cert,
	})
	if err != nil {
		t.Fatal(err)
	}
	return rt
}

// get fetches path from the agent with hc and the token, and returns the
// status (0 when the request failed, with its error).
func get(ctx context.Context, hc *http.Client, endpoint, path, token string) (int, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, endpoint+path, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

func TestMutualTLS(t *testing.T) {
	ca := agenttest.NewCA(t)
	cert := ca.ClientCert(t, "dockyard-server test")
	base := t.TempDir()
	rt := newMutualRuntime(t, base, ca, cert)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c, err := rt.Create(ctx, runtime.Spec{Name: "mtls", Labels: map[string]string{runtime.LabelServerID: "s1"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rt.Remove(context.Background(), c.ID) })
	// The readiness probe presents the client certificate.
	if err := rt.Start(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	c, _ = rt.Inspect(ctx, c.ID)
	cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pidOf(t, base, c.ID)))
	if !strings.Contains(string(cmdline), "--client-ca") {
		t.Errorf("the agent was started without --client-ca: %q", cmdline)
	}

	other := agenttest.NewCA(t)
	refused := []struct {
		name string
		hc   *http.Client
	}{
		{"no client certificate", ca.Client()},
		{"a client certificate of another CA", &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{
			RootCAs: ca.Pool(), MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{other.ClientCert(t, "intruder")}}}}},
	}
	for _, tc := range refused {
		t.Run(tc.name, func(t *testing.T) {
			for _, path := range []string{"/v1/info", "/healthz"} {
				code, err := get(ctx, tc.hc, c.Endpoint, path, c.Token)
				if err == nil && code < 400 {
					t.Errorf("GET %s with the right token: %d, want the connection refused", path, code)
				}
			}
			if _, err := agentclient.New(c.Endpoint, c.Token, tc.hc).Info(ctx); err == nil {
				t.Error("agent client with the right token succeeded")
			}
		})
	}

	good := ca.MutualClient(cert)
	if info, err := agentclient.New(c.Endpoint, c.Token, good).Info(ctx); err != nil {
		t.Fatalf("info with the client certificate and token: %+v, %v", info, err)
	}
	// The certificate does not replace the token.
	if _, err := agentclient.New(c.Endpoint, "wrong", good).Info(ctx); !errdefs.IsUnauthenticated(err) {
		t.Errorf("info with the client certificate and a wrong token: %v, want unauthenticated", err)
	}
}

// A container started without mutual TLS (by an older server) keeps
// working when adopted by a runtime that has it: the agent ignores the
// client certificate it did not ask for. Its next start requires one.
func TestMutualTLSAdoptsPlainAgent(t *testing.T) {
	ca := agenttest.NewCA(t)
	cert := ca.ClientCert(t, "dockyard-server test")
	base := t.TempDir()
	old := newRuntime(t, base, ca)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c, err := old.Create(ctx, runtime.Spec{Name: "plain"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = old.Remove(context.Background(), c.ID) })
	if err := old.Start(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	rt := newMutualRuntime(t, base, ca, cert)
	got, err := rt.Inspect(ctx, c.ID)
	if err != nil || got.State != runtime.StateRunning {
		t.Fatalf("adopted: %+v, %v; want running", got, err)
	}
	good := ca.MutualClient(cert)
	if _, err := agentclient.New(got.Endpoint, got.Token, good).Info(ctx); err != nil {
		t.Fatalf("the adopted plain agent refuses a client that presents a certificate: %v", err)
	}
	if err := rt.Stop(ctx, c.ID, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := rt.Start(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	got, _ = rt.Inspect(ctx, c.ID)
	if _, err := agentclient.New(got.Endpoint, got.Token, ca.Client()).Info(ctx); err == nil {
		t.Error("after a restart by the mutual-TLS runtime, a client without a certificate is still accepted")
	}
	if _, err := agentclient.New(got.Endpoint, got.Token, good).Info(ctx); err != nil {
		t.Errorf("after a restart, the client certificate is refused: %v", err)
	}
}

func TestMutualTLSConfigErrors(t *testing.T) {
	ca := agenttest.NewCA(t)
	cert := ca.ClientCert(t, "x")
	tests := []struct {
		name string
		cfg  process.Config
	}{
		{"client CA without a client certificate", process.Config{ClientCAPEM: ca.CertPEM}},
		{"client CA that is not PEM", process.Config{ClientCAPEM: []byte("nope"), ClientCert: &cert}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.cfg.BaseDir, tc.cfg.Issuer = t.TempDir(), ca
			if _, err := process.New(tc.cfg); !errdefs.IsInvalid(err) {
				t.Errorf("New: %v, want invalid", err)
			}
		})
	}
}
