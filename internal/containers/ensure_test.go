package containers_test

import (
	"context"
	"strings"
	"testing"

	"github.com/dockyard/dockyard/internal/access"
	"github.com/dockyard/dockyard/internal/agent/agenttest"
	"github.com/dockyard/dockyard/internal/containers"
	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/notebooks"
	"github.com/dockyard/dockyard/internal/runtime"
)

func TestEnsureDevContainers(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	alice, bob := principal("alice", access.RoleContainerUser), principal("bob", access.RoleContainerUser)
	ha, err := e.svc.Ensure(ctx, alice, "", containers.EnsureOptions{})
	if err != nil {
		t.Fatalf("Ensure(alice dev): %v", err)
	}
	if ha.Name != containers.DevName || ha.Owner != "alice" || ha.Endpoint == "" || ha.Token == "" {
		t.Fatalf("handle = %+v", ha)
	}
	hb, err := e.svc.Ensure(ctx, bob, containers.DevName, containers.EnsureOptions{})
	if err != nil || hb.Record.RuntimeID == ha.Record.RuntimeID {
		t.Fatalf("bob's dev container = %+v, %v; want a distinct one", hb, err)
	}
	ca, _ := e.rt.Inspect(ctx, ha.Record.RuntimeID)
	cb, _ := e.rt.Inspect(ctx, hb.Record.RuntimeID)
	if ca.Name != "dev-alice" || cb.Name != "dev-bob" || ca.Labels[runtime.LabelContainer] != containers.DevName {
		t.Errorf("runtime names %q %q, labels %v", ca.Name, cb.Name, ca.Labels)
	}
	// A second Ensure reuses the running container without a new start.
	starts := len(e.audit.Events())
	again, err := e.svc.Ensure(ctx, alice, "", containers.EnsureOptions{})
	if err != nil || again.Record.RuntimeID != ha.Record.RuntimeID || len(e.audit.Events()) != starts {
		t.Errorf("second Ensure = %+v, %v (events %d -> %d)", again.Record, err, starts, len(e.audit.Events()))
	}
	// A plain user cannot start a dev container on demand.
	_, err = e.svc.Ensure(ctx, principal("u", access.RoleUser), "", containers.EnsureOptions{})
	if !errdefs.IsPermissionDenied(err) || !strings.Contains(err.Error(), `"control_mltk_container"`) {
		t.Errorf("plain user Ensure = %v", err)
	}
	// Another user's named container is hidden until its owner shares it.
	if _, err := e.svc.Start(ctx, alice, containers.StartRequest{Name: "shared"}); err != nil {
		t.Fatal(err)
	}
	if h, err := e.svc.Ensure(ctx, bob, "shared", containers.EnsureOptions{}); !errdefs.IsNotFound(err) {
		t.Errorf("bob Ensure(alice's unshared container) = %+v, %v; want not found", h, err)
	}
	if _, err := e.svc.Share(ctx, alice, "shared", []string{access.RoleContainerUser, access.RoleUser}); err != nil {
		t.Fatal(err)
	}
	// A plain user holding the role still lacks control_mltk_container.
	if _, err := e.svc.Ensure(ctx, principal("u", access.RoleUser), "shared", containers.EnsureOptions{}); !errdefs.IsPermissionDenied(err) || !strings.Contains(err.Error(), `"control_mltk_container"`) {
		t.Errorf("plain user Ensure(shared with their role) = %v, want permission denied", err)
	}
	// A stopped shared container is restarted on demand by a role holder.
	if _, err := e.svc.Stop(ctx, alice, "shared"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Ensure(ctx, alice, "nope", containers.EnsureOptions{}); !errdefs.IsNotFound(err) || !strings.Contains(err.Error(), "container not found: nope") {
		t.Errorf("Ensure(missing) = %v", err)
	}
	// A container that vanished behind Dockyard's back is started afresh.
	if err := e.rt.Remove(ctx, ha.Record.RuntimeID); err != nil {
		t.Fatal(err)
	}
	h2, err := e.svc.Ensure(ctx, alice, "", containers.EnsureOptions{})
	if err != nil || h2.Record.RuntimeID == ha.Record.RuntimeID {
		t.Errorf("Ensure after the container vanished = %+v, %v", h2, err)
	}
}

func TestReconcile(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	cu := principal("carol", access.RoleContainerUser)
	for _, n := range []string{"keep", "gone", "halted"} {
		if _, err := e.svc.Start(ctx, cu, containers.StartRequest{Name: n}); err != nil {
			t.Fatal(err)
		}
	}
	gone, _ := e.db.GetContainer(ctx, "gone", "")
	halted, _ := e.db.GetContainer(ctx, "halted", "")
	// While "the server is down": one container vanishes, one stops, an
	// orphan of this server appears, and another server's container too.
	if err := e.rt.Remove(ctx, gone.RuntimeID); err != nil {
		t.Fatal(err)
	}
	if err := e.rt.Stop(ctx, halted.RuntimeID, 0); err != nil {
		t.Fatal(err)
	}
	orphan, err := e.rt.Create(ctx, runtime.Spec{Name: "orphan", Labels: map[string]string{runtime.LabelServerID: "srv1", runtime.LabelOwner: "mallory"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.rt.Start(ctx, orphan.ID); err != nil {
		t.Fatal(err)
	}
	foreign, _ := e.rt.Create(ctx, runtime.Spec{Name: "foreign", Labels: map[string]string{runtime.LabelServerID: "other"}})
	_ = e.rt.Start(ctx, foreign.ID)

	svc := e.newService(t) // the restarted server
	rep, err := svc.Reconcile(ctx)
	if err != nil {
		t.Fatalf("Reconcile: %v", err)
	}
	if strings.Join(rep.Adopted, ",") != "container:halted,container:keep" || strings.Join(rep.Lost, ",") != "container:gone" ||
		strings.Join(rep.Quarantined, ",") != "orphan" {
		t.Fatalf("report = %+v", rep)
	}
	if c, _ := e.rt.Inspect(ctx, orphan.ID); c.State != runtime.StateExited {
		t.Errorf("orphan state = %s, want stopped", c.State)
	}
	if c, _ := e.rt.Inspect(ctx, foreign.ID); c.State != runtime.StateRunning {
		t.Errorf("another server's container was touched: %s", c.State)
	}
	recs := map[string]string{}
	l, _ := svc.List(ctx)
	for _, c := range l {
		recs[c.Name] = c.Status
	}
	if recs["keep"] != containers.StatusRunning || recs["gone"] != containers.StatusLost || recs["halted"] != containers.StatusExited {
		t.Errorf("statuses after reconcile = %v", recs)
	}
	for _, want := range []string{"container.adopt success system container:keep", "container.lost failure system container:gone",
		"container.quarantine success system container:orphan"} {
		if !e.hasAction(want) {
			t.Errorf("no audit event %q in %q", want, e.actions())
		}
	}
	// A lost container starts again on request.
	if c, err := svc.Start(ctx, cu, containers.StartRequest{Name: "gone"}); err != nil || c.Status != containers.StatusRunning {
		t.Errorf("start of a lost container = %+v, %v", c, err)
	}
}

const nb = `{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [
 {"cell_type": "code", "metadata": {"name": "mltkc_fit"}, "source": ["def fit(model, df, param):\n", "    return {}\n"]}]}`

func TestExternalAndPushNotebook(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	ag := agenttest.Start(t, agenttest.Options{})
	cadmin := principal("ann", access.RoleContainerAdmin)
	req := containers.RegisterRequest{Name: "ext", URL: ag.URL, Token: ag.Token, CAPEM: string(ag.CA.CertPEM)}
	if _, err := e.svc.Register(ctx, principal("carol", access.RoleContainerUser), req); !errdefs.IsPermissionDenied(err) || !strings.Contains(err.Error(), "configure_mltk_container") {
		t.Fatalf("Register by a container user = %v", err)
	}
	c, err := e.svc.Register(ctx, cadmin, req)
	if err != nil {
		t.Fatalf("Register: %v", err)
	}
	if c.Runtime != "external" || c.TokenHint != "…"+ag.Token[len(ag.Token)-4:] || strings.Contains(c.TokenSealed, ag.Token) || c.TokenSealed == "" {
		t.Fatalf("registered = %+v", c)
	}
	for _, ev := range e.audit.Events() {
		if strings.Contains(strings.Join(e.actions(), " "), ag.Token) || strings.Contains(ev.Message, ag.Token) {
			t.Fatalf("token in the audit log: %+v", ev)
		}
	}
	for _, bad := range []containers.RegisterRequest{
		{Name: "b", URL: "http://x", Token: "t"}, {Name: "b", URL: ag.URL}, {Name: "b", URL: ag.URL, Token: "t", CAPEM: "junk"},
		{Name: containers.DevName, URL: ag.URL, Token: "t"},
	} {
		if _, err := e.svc.Register(ctx, cadmin, bad); !errdefs.IsInvalid(err) {
			t.Errorf("Register(%+v) = %v, want invalid", bad, err)
		}
	}
	alice := principal("alice", access.RoleContainerUser)
	if _, err := e.svc.Ensure(ctx, alice, "ext", containers.EnsureOptions{}); !errdefs.IsNotFound(err) {
		t.Fatalf("Ensure(ext) before it is shared = %v, want not found", err)
	}
	if _, err := e.svc.Share(ctx, cadmin, "ext", []string{access.RoleContainerUser}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.nb.Push(ctx, alice, notebooks.PushRequest{Name: "lr", Format: "ipynb", Content: []byte(nb)}); err != nil {
		t.Fatal(err)
	}
	h, err := e.svc.Ensure(ctx, alice, "ext", containers.EnsureOptions{})
	if err != nil || h.Token != ag.Token || h.Endpoint != ag.URL {
		t.Fatalf("Ensure(ext) = %+v, %v", h, err)
	}
	v, err := e.svc.PushNotebook(ctx, h, "lr")
	if err != nil || v.Version != 1 {
		t.Fatalf("PushNotebook = %+v, %v", v, err)
	}
	got, err := h.Agent().GetNotebook(ctx, "lr.ipynb")
	if err != nil || string(got) != nb {
		t.Fatalf("notebook in the container = %q, %v", got, err)
	}
	if _, err := e.svc.PushNotebook(ctx, h, "lr"); err != nil {
		t.Errorf("second PushNotebook: %v", err)
	}
	if _, err := e.svc.PushNotebook(ctx, &containers.Handle{Name: "ext", Endpoint: h.Endpoint, Token: h.Token, TLS: h.TLS, Principal: principal("bob", access.RoleUser)}, "lr"); !errdefs.IsNotFound(err) {
		t.Errorf("bob pushes alice's private notebook: %v, want not found", err)
	}
	// A wrong CA is refused by TLS verification.
	other := agenttest.NewCA(t)
	req.CAPEM = string(other.CertPEM)
	if _, err := e.svc.Register(ctx, cadmin, req); err != nil {
		t.Fatal(err)
	}
	h, err = e.svc.Ensure(ctx, alice, "ext", containers.EnsureOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.PushNotebook(ctx, h, "lr"); err == nil {
		t.Errorf("PushNotebook through an unverified TLS connection succeeded")
	}
	// Stopped external containers are not handed out.
	if _, err := e.svc.Stop(ctx, cadmin, "ext"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Ensure(ctx, alice, "ext", containers.EnsureOptions{}); !errdefs.IsUnavailable(err) {
		t.Errorf("Ensure(stopped external) = %v", err)
	}
}
