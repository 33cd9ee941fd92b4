package server_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/pem"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dockyard/dockyard/internal/access"
	"github.com/dockyard/dockyard/internal/containers"
	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/pki"
	"github.com/dockyard/dockyard/internal/server/servertest"
	"github.com/dockyard/dockyard/internal/wire"
)

// TestContainerOperatorCerts starts agents that serve operator
// certificates from containers.certs_dir, named per catalogue entry and
// per container: bad pairs are refused with their own messages, a user
// may not name one for a container, and the server dials the agent and
// verifies the operator's certificate against the configured CA.
func TestContainerOperatorCerts(t *testing.T) {
	ctx := context.Background()
	opCA, _, err := pki.LoadOrCreateCA(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	other, _, err := pki.LoadOrCreateCA(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	certsDir := t.TempDir()
	put := func(name string, ca *pki.CA, hosts ...string) []byte {
		c, k, err := ca.IssueServer("dockyard-agent "+name, hosts, 24*time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(certsDir, name+".pem"), c, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(certsDir, name+".key"), k, 0o600); err != nil {
			t.Fatal(err)
		}
		return c
	}
	dltk := put("dltk", opCA, "127.0.0.1", "localhost")
	web := put("web-tls", opCA, "127.0.0.1")
	put("elsewhere", opCA, "agent.example.com")
	put("foreign", other, "127.0.0.1")
	caFile := filepath.Join(t.TempDir(), "operator-ca.pem")
	if err := os.WriteFile(caFile, opCA.CertPEM(), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := servertest.Config(t.TempDir())
	cfg.Containers.CertsDir, cfg.Containers.CertsCAFile = certsDir, caFile
	h := servertest.StartConfig(t, cfg)
	cleanupContainers(t, h)
	carol := h.User("carol", access.RoleContainerUser)

	// A user may not put an operator's key into a container of theirs.
	if _, err := carol.StartContainer(ctx, "mine", wire.ContainerStart{Cert: "dltk"}); !errdefs.IsPermissionDenied(err) {
		t.Fatalf("a user's start with --cert = %v, want permission denied", err)
	}
	if _, err := h.Admin.StartContainer(ctx, "bad", wire.ContainerStart{Cert: "elsewhere"}); err == nil ||
		!strings.Contains(err.Error(), `does not cover "127.0.0.1", the address the server dials the agent at`) {
		t.Fatalf("start with a certificate for another host = %v", err)
	}
	if _, err := h.Admin.StartContainer(ctx, "bad", wire.ContainerStart{Cert: "../dltk"}); !errdefs.IsInvalid(err) {
		t.Fatalf("start with a path for a certificate = %v, want invalid", err)
	}
	if _, err := h.Admin.AddImage(ctx, wire.ImageAdd{Name: "proc-tls", Runtime: "process", Cert: "foreign"}); !errdefs.IsInvalid(err) ||
		!strings.Contains(err.Error(), "does not chain to the CA in containers.certs_ca_file") {
		t.Fatalf("an entry with a certificate of another CA = %v", err)
	}
	if _, err := h.Admin.AddImage(ctx, wire.ImageAdd{Name: "proc-tls", Runtime: "process", Cert: "nope"}); !errdefs.IsNotFound(err) {
		t.Fatalf("an entry with a missing certificate = %v", err)
	}
	im, err := h.Admin.AddImage(ctx, wire.ImageAdd{Name: "proc-tls", Runtime: "process", Cert: "dltk"})
	if err != nil || im.Cert != "dltk" {
		t.Fatalf("add proc-tls = %+v, %v", im, err)
	}

	// served checks that the server dials the container's agent, trusting
	// the operator CA, and that the agent serves want.
	served := func(owner *access.Principal, name string, want []byte) {
		t.Helper()
		hd, err := h.Srv.Containers().Ensure(ctx, owner, name, containers.EnsureOptions{})
		if err != nil {
			t.Fatalf("Ensure(%s): %v", name, err)
		}
		if _, err := hd.Agent().ModelFiles(ctx); err != nil {
			t.Fatalf("the server's call to %s's agent: %v", name, err)
		}
		u, err := url.Parse(hd.Endpoint)
		if err != nil {
			t.Fatal(err)
		}
		conn, err := tls.Dial("tcp", u.Host, hd.TLS)
		if err != nil {
			t.Fatalf("dialling %s's agent: %v", name, err)
		}
		defer conn.Close()
		blk, _ := pem.Decode(want)
		if got := conn.ConnectionState().PeerCertificates[0].Raw; !bytes.Equal(got, blk.Bytes) {
			t.Fatalf("%s's agent serves another certificate than the operator's", name)
		}
		// Trusting the server CA alone, the operator's certificate fails.
		caOnly := hd.TLS.Clone()
		caOnly.RootCAs = h.Srv.CA().Pool()
		if c, err := tls.Dial("tcp", u.Host, caOnly); err == nil {
			c.Close()
			t.Fatalf("%s's agent was verified by the server CA alone", name)
		}
	}

	// Per catalogue entry: any user starting from it gets its pair.
	if c, err := carol.StartContainer(ctx, "web", wire.ContainerStart{Image: "proc-tls"}); err != nil || c.Cert != "" {
		t.Fatalf("start from proc-tls = %+v, %v", c, err)
	}
	pc, err := h.Srv.Access().EffectivePrincipal(ctx, "carol", "")
	if err != nil {
		t.Fatal(err)
	}
	served(pc, "web", dltk)

	// Per container, by an administrator: it overrides the entry's.
	if c, err := h.Admin.StartContainer(ctx, "ops", wire.ContainerStart{Image: "proc-tls", Cert: "web-tls"}); err != nil || c.Cert != "web-tls" {
		t.Fatalf("start with --cert web-tls = %+v, %v", c, err)
	}
	pa, err := h.Srv.Access().EffectivePrincipal(ctx, "admin", "")
	if err != nil {
		t.Fatal(err)
	}
	served(pa, "ops", web)
	// A restart keeps the container's own pair.
	if _, err := h.Admin.StopContainer(ctx, "ops"); err != nil {
		t.Fatal(err)
	}
	if c, err := h.Admin.StartContainer(ctx, "ops", wire.ContainerStart{Image: "proc-tls"}); err != nil || c.Cert != "web-tls" {
		t.Fatalf("restart = %+v, %v", c, err)
	}
	served(pa, "ops", web)
}
