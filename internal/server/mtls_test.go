package server_test

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/dockyard/dockyard/internal/access"
	"github.com/dockyard/dockyard/internal/agent/agentclient"
	"github.com/dockyard/dockyard/internal/containers"
	"github.com/dockyard/dockyard/internal/pki"
	"github.com/dockyard/dockyard/internal/runtime/process"
	"github.com/dockyard/dockyard/internal/server/servertest"
	"github.com/dockyard/dockyard/internal/wire"
)

// The server and the agents it starts authenticate each other: an agent
// refuses a client without the server's client certificate even when it
// has the right token.
func TestAgentsRequireTheServersClientCertificate(t *testing.T) {
	ctx := context.Background()
	cfg := servertest.Config(t.TempDir())
	h1 := servertest.StartConfig(t, cfg)
	cleanupContainers(t, h1)
	carol := h1.User("carol", access.RoleContainerUser)
	if _, err := carol.StartContainer(ctx, "web", wire.ContainerStart{}); err != nil {
		t.Fatalf("start: %v", err)
	}
	pkiDir := filepath.Join(cfg.Data, "pki")
	info, err := os.Stat(filepath.Join(pkiDir, pki.ClientKeyFile))
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("%s: %v, mode %v; want 0600", pki.ClientKeyFile, err, info.Mode())
	}
	clientPEM, err := os.ReadFile(filepath.Join(pkiDir, pki.ClientCertFile))
	if err != nil {
		t.Fatal(err)
	}
	p := &access.Principal{User: "carol", App: "search", Caps: access.CapSet{access.CapControlContainer: true}}
	hd, err := h1.Srv.Containers().Ensure(ctx, p, "web", containers.EnsureOptions{})
	if err != nil {
		t.Fatalf("Ensure: %v", err)
	}
	if len(hd.TLS.Certificates) != 1 {
		t.Fatalf("the handle's TLS configuration has %d client certificates, want 1", len(hd.TLS.Certificates))
	}
	if _, err := hd.Agent().ModelFiles(ctx); err != nil {
		t.Fatalf("agent call through the handle: %v", err)
	}
	// Trusting the agent, with its token, but without the certificate.
	caOnly, err := pki.ClientTLSConfigPEM("the server CA", h1.Srv.CA().CertPEM())
	if err != nil {
		t.Fatal(err)
	}
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: caOnly}}
	if _, err := agentclient.New(hd.Endpoint, hd.Token, hc).ModelFiles(ctx); err == nil {
		t.Fatal("the agent answered a client without the server's client certificate")
	}
	if resp, err := hc.Get(hd.Endpoint + "/healthz"); err == nil {
		resp.Body.Close()
		if resp.StatusCode < 400 {
			t.Errorf("/healthz without a client certificate: %d, want the connection refused", resp.StatusCode)
		}
	}
	h1.Stop()

	// Simulate an agent started by an older server: restart it without
	// --client-ca. The restarted server adopts it and still reaches it.
	plain, err := process.New(process.Config{BaseDir: filepath.Join(cfg.Data, "containers"), Issuer: h1.Srv.CA(), Command: testAgentCommand})
	if err != nil {
		t.Fatal(err)
	}
	id := hd.Record.RuntimeID
	if err := plain.Stop(ctx, id, 0); err != nil {
		t.Fatal(err)
	}
	if err := plain.Start(ctx, id); err != nil {
		t.Fatal(err)
	}
	h2 := servertest.StartConfig(t, cfg)
	hd2, err := h2.Srv.Containers().Ensure(ctx, p, "web", containers.EnsureOptions{})
	if err != nil {
		t.Fatalf("Ensure after restart: %v", err)
	}
	if _, err := hd2.Agent().ModelFiles(ctx); err != nil {
		t.Fatalf("adopted agent started without --client-ca: %v", err)
	}
	// The restarted server reuses its client certificate.
	again, err := os.ReadFile(filepath.Join(pkiDir, pki.ClientCertFile))
	if err != nil || !bytes.Equal(again, clientPEM) {
		t.Errorf("the client certificate was reissued at restart (%v)", err)
	}
}
