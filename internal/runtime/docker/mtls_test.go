package docker_test

import (
	"crypto/tls"
	"net/http"
	"slices"
	"testing"

	"github.com/moby/moby/client"

	"github.com/dockyard/dockyard/internal/agent/agentclient"
	"github.com/dockyard/dockyard/internal/agent/agenttest"
	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/runtime/docker"
)

// With a client CA the agent requires a client certificate of that CA
// (mutual TLS) besides its token; the readiness probe presents one. A
// container created without it (by an older server) keeps asking for none.
func TestMutualTLS(t *testing.T) {
	cli := daemon(t)
	ca := agenttest.NewCA(t)
	cert := ca.ClientCert(t, "dockyard-server test")
	scope := newScope()
	plainRT := newRuntime(t, ca, scope, nil)
	rt := newRuntime(t, ca, scope, func(c *docker.Config) { c.ClientCAPEM, c.ClientCert = ca.CertPEM, &cert })
	ctx := ctxT(t)

	c, err := rt.Create(ctx, specFor(t, "mtls"))
	if err != nil {
		t.Fatal(err)
	}
	if err := rt.Start(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	c, _ = rt.Inspect(ctx, c.ID)
	raw, err := cli.ContainerInspect(ctx, c.ID, client.ContainerInspectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if i := slices.Index(raw.Container.Config.Cmd, "--client-ca"); i < 0 || i+1 >= len(raw.Container.Config.Cmd) || raw.Container.Config.Cmd[i+1] != docker.ClientCAFile {
		t.Errorf("agent arguments %q lack --client-ca %s", raw.Container.Config.Cmd, docker.ClientCAFile)
	}
	other := agenttest.NewCA(t)
	for name, hc := range map[string]*http.Client{
		"no client certificate": ca.Client(),
		"a client certificate of another CA": {Transport: &http.Transport{TLSClientConfig: &tls.Config{
			RootCAs: ca.Pool(), MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{other.ClientCert(t, "intruder")}}}},
	} {
		if _, err := agentclient.New(c.Endpoint, c.Token, hc).ModelFiles(ctx); err == nil {
			t.Errorf("%s, right token: the agent answered; want the connection refused", name)
		}
	}
	good := ca.MutualClient(cert)
	if _, err := agentclient.New(c.Endpoint, c.Token, good).ModelFiles(ctx); err != nil {
		t.Errorf("client certificate and token: %v", err)
	}
	if _, err := agentclient.New(c.Endpoint, "wrong", good).ModelFiles(ctx); !errdefs.IsUnauthenticated(err) {
		t.Errorf("client certificate and a wrong token: %v, want unauthenticated", err)
	}

	// Created without a client CA: the mutual-TLS runtime still starts it
	// (its probe's certificate is ignored) and a client presenting the
	// certificate is served.
	p, err := plainRT.Create(ctx, specFor(t, "plain"))
	if err != nil {
		t.Fatal(err)
	}
	if err := rt.Start(ctx, p.ID); err != nil {
		t.Fatal(err)
	}
	p, _ = rt.Inspect(ctx, p.ID)
	if _, err := agentclient.New(p.Endpoint, p.Token, good).ModelFiles(ctx); err != nil {
		t.Errorf("plain agent, client presenting a certificate: %v", err)
	}
}
