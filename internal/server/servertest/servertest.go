// Package servertest starts a real Dockyard server (SQLite store, blob
// store, CA, HTTPS on loopback) in a temporary data dir for tests, and
// creates users and clients for it.
package servertest

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/dockyard/dockyard/internal/access"
	"github.com/dockyard/dockyard/internal/client"
	"github.com/dockyard/dockyard/internal/config"
	"github.com/dockyard/dockyard/internal/containers"
	"github.com/dockyard/dockyard/internal/server"
	"github.com/dockyard/dockyard/internal/telemetry"
)

// Harness is a running test server.
type Harness struct {
	T     testing.TB
	Srv   *server.Server
	Data  string
	Admin *client.Client // authenticated as admin
	stop  func()
}

// AdminPassword is the admin password of every test server.
const AdminPassword = "admin-test-password"

// Config returns a configuration for a test server in dir.
func Config(dir string) config.Config {
	cfg := config.Default()
	cfg.Data = dir
	cfg.Addr = "127.0.0.1:0"
	// Tests drive sync passes themselves (Server.NotebookSyncer) and read
	// their reports; a test of push-based sync sets this again.
	cfg.Containers.SyncWatchScan = 0
	// Development containers run no Jupyter unless a test asks for it
	// (a Python server per container would load the whole suite).
	cfg.Containers.Jupyter.Enabled = false
	return cfg
}

// Start runs a server on a fresh data dir until the test ends.
func Start(t testing.TB) *Harness { return StartConfig(t, Config(t.TempDir())) }

// StartConfig runs a server with cfg until the test ends (or Stop).
func StartConfig(t testing.TB, cfg config.Config) *Harness {
	t.Helper()
	return StartWith(t, cfg, telemetry.Discard())
}

// StartWith runs a server with cfg that logs to log (a test that inspects
// the server's log passes one writing to a buffer).
func StartWith(t testing.TB, cfg config.Config, log *slog.Logger) *Harness {
	t.Helper()
	return StartOptions(t, cfg, log, server.Options{})
}

// StartOptions runs a server with cfg and opts (a test that gives the
// server its store sets opts.Store); the admin password is AdminPassword.
func StartOptions(t testing.TB, cfg config.Config, log *slog.Logger, opts server.Options) *Harness {
	t.Helper()
	ctx := context.Background()
	opts.AdminPassword = AdminPassword
	srv, err := server.New(ctx, cfg, log, opts)
	if err != nil {
		t.Fatalf("start server: %v", err)
	}
	sctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(sctx) }()
	h := &Harness{T: t, Srv: srv, Data: cfg.Data}
	var once bool
	h.stop = func() {
		if once {
			return
		}
		once = true
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
		srv.Close()
	}
	// At the end of the test (not at an explicit Stop, after which a
	// restarted server should adopt them) the test's containers go.
	t.Cleanup(func() {
		if !once {
			h.removeContainers()
		}
		h.stop()
	})
	secret, err := srv.AdminToken(ctx, "test-admin", time.Hour)
	if err != nil {
		t.Fatalf("admin token: %v", err)
	}
	h.Admin = h.Client(secret)
	return h
}

// Stop shuts the server down now (it is also stopped when the test ends).
func (h *Harness) Stop() { h.stop() }

// Client returns a client that verifies the server with its CA.
func (h *Harness) Client(token string) *client.Client {
	h.T.Helper()
	c, err := client.New(client.Options{Server: h.Srv.URL(), CAFile: h.Srv.CAFile(), Token: token})
	if err != nil {
		h.T.Fatalf("client: %v", err)
	}
	return c
}

// UserPassword is the password of users made by User.
const UserPassword = "user-test-password"

// User creates a user with the given roles and returns a logged-in client.
func (h *Harness) User(name string, roles ...string) *client.Client {
	h.T.Helper()
	ctx := context.Background()
	_, err := h.Srv.Access().AddUser(ctx, access.NewUser{Name: name, Password: UserPassword, Roles: roles})
	if err != nil && !strings.Contains(err.Error(), "exists") {
		h.T.Fatalf("add user %s: %v", name, err)
	}
	c := h.Client("")
	res, err := c.Login(ctx, name, UserPassword)
	if err != nil {
		h.T.Fatalf("login %s: %v", name, err)
	}
	c.SetToken(res.Token)
	return c
}

// removeContainers removes every container the test started: process
// runtime containers outlive their server by design, so a test that leaves
// one running would leak its agent.
func (h *Harness) removeContainers() {
	if h.Srv.Containers() == nil {
		return
	}
	ctx := context.Background()
	list, err := h.Srv.Containers().List(ctx)
	if err != nil {
		h.T.Logf("listing containers to remove: %v", err)
		return
	}
	caps := access.CapSet{}
	for _, c := range access.AllCapabilities() {
		caps[c] = true
	}
	for _, c := range list {
		// Acting as the owner reaches per-user dev containers too.
		p := &access.Principal{User: c.Owner, Roles: []string{access.RoleAdmin}, Caps: caps}
		// Forced: a notebook a test left invalid must not keep its agent.
		if err := h.Srv.Containers().RemoveWith(ctx, p, c.Name, containers.StopOptions{Force: true}); err != nil {
			h.T.Logf("removing container %s: %v", c.Name, err)
		}
	}
}
