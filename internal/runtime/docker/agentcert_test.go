package docker_test

import (
	"bytes"
	"crypto/tls"
	"encoding/pem"
	"net/url"
	"testing"
	"time"

	"github.com/dockyard/dockyard/internal/agent/agentclient"
	"github.com/dockyard/dockyard/internal/agent/agenttest"
	"github.com/dockyard/dockyard/internal/runtime"
)

// A spec with an operator's pair: the agent serves it, not one the
// server CA issues, and a client trusting the operator CA reaches it.
func TestAgentServesOperatorCert(t *testing.T) {
	serverCA, opCA := agenttest.NewCA(t), agenttest.NewCA(t)
	rt := newRuntime(t, serverCA, newScope(), nil)
	ctx := ctxT(t)
	certPEM, keyPEM, err := opCA.IssueServer("operator agent", []string{"127.0.0.1"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	spec := specFor(t, "opcert")
	spec.AgentCert = &runtime.KeyPair{CertPEM: certPEM, KeyPEM: keyPEM}
	c, err := rt.Create(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	if err := rt.Start(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	c, _ = rt.Inspect(ctx, c.ID)
	u, err := url.Parse(c.Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := tls.Dial("tcp", u.Host, &tls.Config{RootCAs: opCA.Pool(), MinVersion: tls.VersionTLS12})
	if err != nil {
		t.Fatalf("dialling the agent trusting the operator CA: %v", err)
	}
	blk, _ := pem.Decode(certPEM)
	if !bytes.Equal(conn.ConnectionState().PeerCertificates[0].Raw, blk.Bytes) {
		t.Error("the agent serves another certificate than the operator's")
	}
	conn.Close()
	if _, err := agentclient.New(c.Endpoint, c.Token, opCA.Client()).ModelFiles(ctx); err != nil {
		t.Errorf("a call verified by the operator CA: %v", err)
	}
	if _, err := agentclient.New(c.Endpoint, c.Token, serverCA.Client()).ModelFiles(ctx); err == nil {
		t.Error("the agent was verified by the server CA, which did not issue its certificate")
	}
}
