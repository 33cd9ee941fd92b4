package server_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/dockyard/dockyard/internal/access"
	"github.com/dockyard/dockyard/internal/api"
	"github.com/dockyard/dockyard/internal/client"
	"github.com/dockyard/dockyard/internal/config"
	"github.com/dockyard/dockyard/internal/containers"
	"github.com/dockyard/dockyard/internal/server/servertest"
	"github.com/dockyard/dockyard/internal/wire"
)

// needJupyter skips where Debian's classic Notebook is not installed (CI
// installs jupyter-notebook, python3-notebook and python3-ipykernel).
func needJupyter(t *testing.T) {
	t.Helper()
	needPython(t)
	if _, err := exec.LookPath("jupyter-notebook"); err != nil {
		t.Skip("jupyter-notebook is not installed (Debian: apt-get install jupyter-notebook python3-notebook python3-ipykernel)")
	}
}

// jupyterConfig is a test server's configuration with Jupyter in
// development containers (the default, which servertest turns off).
func jupyterConfig(t *testing.T) config.Config {
	cfg := servertest.Config(t.TempDir())
	cfg.Containers.Jupyter.Enabled = true
	return cfg
}

// jupyterUser creates a user and returns its client and its raw token.
func jupyterUser(t *testing.T, h *servertest.Harness, name string, roles ...string) (*client.Client, string) {
	t.Helper()
	c := h.User(name, roles...)
	res, err := h.Client("").Login(context.Background(), name, servertest.UserPassword)
	if err != nil {
		t.Fatal(err)
	}
	c.SetToken(res.Token)
	return c, res.Token
}

// httpsClient trusts the test server's CA.
func httpsClient(t *testing.T, h *servertest.Harness) *http.Client {
	t.Helper()
	pem, err := os.ReadFile(h.Srv.CAFile())
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	return &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}, Timeout: 2 * time.Minute}
}

// jupyterDo sends one request to the server under path with token ("":
// none) and returns the status and body.
func jupyterDo(t *testing.T, h *servertest.Harness, hc *http.Client, token, method, path string, body []byte, hdr map[string]string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, h.Srv.URL()+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// waitJupyterReady waits (generously: a loaded two-core machine) until the
// container's Jupyter answers through the server's proxy.
func waitJupyterReady(t *testing.T, h *servertest.Harness, hc *http.Client, token, base string) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	for {
		code, b := jupyterDo(t, h, hc, token, "GET", base+"api/status", nil, nil)
		if code == http.StatusOK && strings.Contains(string(b), `"kernels"`) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("Jupyter did not answer through the proxy: %d %s", code, b)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// contentsBody wraps a notebook for Jupyter's contents API.
func contentsBody(t *testing.T, nb []byte) []byte {
	t.Helper()
	var content any
	if err := json.Unmarshal(nb, &content); err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(map[string]any{"type": "notebook", "format": "json", "content": content})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// waitVersion waits until the notebook's history holds a version stored
// from alice's development container and returns the history.
func waitVersion(t *testing.T, c *client.Client, name string, n int) []wire.NotebookVersion {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		vs, err := c.NotebookHistory(context.Background(), name)
		if err == nil && len(vs) >= n && vs[n-1].Source == "container:alice/__dev__" {
			return vs
		}
		if time.Now().After(deadline) {
			t.Fatalf("notebook %s: no version %d from the container: %+v, %v", name, n, vs, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestJupyterInDevelopmentContainer is the loop of docs/notebooks.md: a
// development container runs Debian's Jupyter; through the server's proxy
// the owner creates a notebook with the contents API and runs a cell in a
// kernel over the proxied WebSocket; the save becomes a notebook version
// from the container within seconds, and `fit algo=NAME` runs it at once.
func TestJupyterInDevelopmentContainer(t *testing.T) {
	needJupyter(t)
	ctx := context.Background()
	cfg := jupyterConfig(t)
	cfg.Containers.SyncWatchScan = time.Second // push-based sync: saves are stored within seconds
	h := servertest.StartConfig(t, cfg)
	cleanupContainers(t, h)
	alice, tok, hc, base := openDevJupyter(t, h, "alice")

	// A notebook created through the proxied contents API, and a cell run
	// in a kernel over the proxied WebSocket.
	if out := saveAndRun(t, h, hc, tok, base, "jnb", "print(6 * 7)"); strings.TrimSpace(out) != "42" {
		t.Errorf("the cell printed %q, want 42", out)
	}
	if all := auditActions(t, h); !hasEvent(all, `"container.jupyter"`, `"alice"`, `/channels`) {
		t.Errorf("opening the kernel channel is not audited as container.jupyter")
	}

	// The save is a notebook version of alice's, from her container.
	vs := waitVersion(t, alice, "jnb", 1)
	if vs[0].Author != "alice" || vs[0].Format != "ipynb" {
		t.Errorf("history = %+v", vs)
	}

	// ... that a fit runs at once.
	if _, err := alice.UploadLookup(ctx, "d1.csv", strings.NewReader(linearCSV(2, 1, 20))); err != nil {
		t.Fatal(err)
	}
	res := mlSearch(t, alice, "| inputlookup d1.csv | fit MLTKContainer algo=jnb y from x into JupyterModel")
	if len(res.Results) != 21 || !hasMessage(res.Messages, "registered JupyterModel version 1", "from notebook jnb") {
		t.Fatalf("fit: %d rows, messages %q", len(res.Results), res.Messages)
	}
	m, err := alice.Model(ctx, "JupyterModel")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(mustJSON(t, m), strings.TrimPrefix(vs[0].Digest, "sha256:")) {
		t.Errorf("the model's lineage does not name the saved notebook's digest %s: %s", vs[0].Digest, mustJSON(t, m))
	}
}

// openDevJupyter creates user (a container user), starts their
// development container and waits for its Jupyter: it returns the user's
// client and token, an HTTPS client and the Jupyter's base path.
func openDevJupyter(t *testing.T, h *servertest.Harness, user string) (*client.Client, string, *http.Client, string) {
	t.Helper()
	c, tok := jupyterUser(t, h, user, access.RoleContainerUser)
	hc := httpsClient(t, h)
	if _, err := c.StartContainer(context.Background(), containers.DevName, wire.ContainerStart{}); err != nil {
		t.Fatalf("start: %v", err)
	}
	base := containers.JupyterPath(user, containers.DevName)
	waitJupyterReady(t, h, hc, tok, base)
	return c, tok, hc, base
}

// saveAndRun creates notebook NAME.ipynb (the linear_regression example)
// through the proxied contents API of the Jupyter at base, starts a kernel,
// runs code in it over the proxied WebSocket, shuts the kernel down and
// returns what the cell printed.
func saveAndRun(t *testing.T, h *servertest.Harness, hc *http.Client, tok, base, name, code string) string {
	t.Helper()
	nb, err := os.ReadFile("../../examples/notebooks/linear_regression.ipynb")
	if err != nil {
		t.Fatal(err)
	}
	status, b := jupyterDo(t, h, hc, tok, "PUT", base+"api/contents/"+name+".ipynb", contentsBody(t, nb), map[string]string{"Content-Type": "application/json"})
	if status != http.StatusCreated {
		t.Fatalf("PUT api/contents/%s.ipynb = %d %s", name, status, b)
	}
	status, b = jupyterDo(t, h, hc, tok, "POST", base+"api/kernels", []byte(`{"name": "python3"}`), nil)
	if status != http.StatusCreated {
		t.Fatalf("POST api/kernels = %d %s", status, b)
	}
	var kernel struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(b, &kernel); err != nil || kernel.ID == "" {
		t.Fatalf("kernel answer %s: %v", b, err)
	}
	out := executeCell(t, h, hc, tok, base+"api/kernels/"+kernel.ID+"/channels", code)
	if status, _ = jupyterDo(t, h, hc, tok, "DELETE", base+"api/kernels/"+kernel.ID, nil, nil); status != http.StatusNoContent {
		t.Errorf("DELETE kernel = %d", status)
	}
	return out
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// executeCell runs code in the kernel whose channels are at path (the
// Jupyter kernel protocol over WebSocket: execute_request on the shell
// channel) and returns what it printed on the iopub stream.
func executeCell(t *testing.T, h *servertest.Harness, hc *http.Client, token, path, code string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	ws, resp, err := websocket.Dial(ctx, "wss"+strings.TrimPrefix(h.Srv.URL(), "https")+path, &websocket.DialOptions{
		HTTPClient: hc, HTTPHeader: http.Header{"Authorization": {"Bearer " + token}},
	})
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		t.Fatalf("WebSocket %s: %v (status %d)", path, err, status)
	}
	defer ws.CloseNow()
	ws.SetReadLimit(16 << 20)
	var id [8]byte
	_, _ = rand.Read(id[:])
	msgID := hex.EncodeToString(id[:])
	msg := map[string]any{
		"header": map[string]any{"msg_id": msgID, "username": "test", "session": msgID, "msg_type": "execute_request",
			"version": "5.3", "date": time.Now().UTC().Format(time.RFC3339)},
		"parent_header": map[string]any{}, "metadata": map[string]any{}, "channel": "shell", "buffers": []any{},
		"content": map[string]any{"code": code, "silent": false, "store_history": true, "user_expressions": map[string]any{},
			"allow_stdin": false, "stop_on_error": true},
	}
	b, _ := json.Marshal(msg)
	if err := ws.Write(ctx, websocket.MessageText, b); err != nil {
		t.Fatalf("sending execute_request: %v", err)
	}
	var printed strings.Builder
	for {
		_, data, err := ws.Read(ctx)
		if err != nil {
			t.Fatalf("reading the kernel's answer (printed so far %q): %v", printed.String(), err)
		}
		var m struct {
			Channel      string `json:"channel"`
			MsgType      string `json:"msg_type"`
			ParentHeader struct {
				MsgID string `json:"msg_id"`
			} `json:"parent_header"`
			Content struct {
				Name           string `json:"name"`
				Text           string `json:"text"`
				Status         string `json:"status"`
				ExecutionState string `json:"execution_state"`
			} `json:"content"`
		}
		if err := json.Unmarshal(data, &m); err != nil || m.ParentHeader.MsgID != msgID {
			continue
		}
		switch {
		case m.MsgType == "stream" && m.Content.Name == "stdout":
			printed.WriteString(m.Content.Text)
		case m.MsgType == "error":
			t.Fatalf("the cell failed: %s", data)
		case m.MsgType == "execute_reply":
			if m.Content.Status != "ok" {
				t.Fatalf("execute_reply: %s", data)
			}
		case m.MsgType == "status" && m.Content.ExecutionState == "idle":
			// The kernel is done with this request.
			return printed.String()
		}
	}
}

// TestJupyterProxyRefuses: only the owner and administrators reach a
// development container's Jupyter; another user is told it does not
// exist, a request without credentials is 401, a page from another site
// is refused, and no path trick (encoded slashes, '..', encoded dots)
// leads from one's own path to someone else's Jupyter.
func TestJupyterProxyRefuses(t *testing.T) {
	needJupyter(t)
	ctx := context.Background()
	h := servertest.StartConfig(t, jupyterConfig(t))
	cleanupContainers(t, h)
	alice, aliceTok := jupyterUser(t, h, "alice", access.RoleContainerUser)
	_, bobTok := jupyterUser(t, h, "bob", access.RoleContainerUser)
	adminTok, err := h.Srv.AdminToken(ctx, "jupyter-admin", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	hc := httpsClient(t, h)
	if _, err := alice.StartContainer(ctx, containers.DevName, wire.ContainerStart{}); err != nil {
		t.Fatalf("start: %v", err)
	}
	base := containers.JupyterPath("alice", containers.DevName)
	waitJupyterReady(t, h, hc, aliceTok, base)
	code, b := jupyterDo(t, h, hc, aliceTok, "GET", base+"api/contents", nil, nil)
	if code != http.StatusOK {
		t.Fatalf("owner: %d %s", code, b)
	}
	if code, b := jupyterDo(t, h, hc, adminTok, "GET", base+"api/status", nil, nil); code != http.StatusOK {
		t.Errorf("administrator: %d %s", code, b)
	}
	// The web console's session cookie authenticates too (a browser);
	// from another site's page it is refused, WebSocket handshakes
	// (GET) included.
	cookie := map[string]string{"Cookie": api.SessionCookie + "=" + aliceTok}
	if code, b := jupyterDo(t, h, hc, "", "GET", base+"api/status", nil, cookie); code != http.StatusOK {
		t.Errorf("session cookie: %d %s", code, b)
	}
	// An administrator's browser session does not open another user's
	// Jupyter: that user's code (a custom.js in the container, a notebook's
	// output) runs in the page at this server's origin and would act with
	// the administrator's session on the console's pages. A bearer token
	// (a script, not a browser) still reaches it, as above.
	adminCookie := map[string]string{"Cookie": api.SessionCookie + "=" + adminTok}
	if code, b := jupyterDo(t, h, hc, "", "GET", base+"tree", nil, adminCookie); code != http.StatusForbidden || !strings.Contains(string(b), "bearer token") {
		t.Errorf("administrator's session cookie on another user's Jupyter: %d %s, want 403 naming the bearer token", code, b)
	}
	for _, method := range []string{"GET", "POST"} {
		hdr := map[string]string{"Cookie": cookie["Cookie"], "Origin": "https://evil.example"}
		if code, b := jupyterDo(t, h, hc, "", method, base+"api/kernels", []byte(`{"name": "python3"}`), hdr); code != http.StatusForbidden {
			t.Errorf("session cookie from another origin, %s: %d %s", method, code, b)
		}
	}
	// Jupyter's own page, under the base URL, without Jupyter's cookies.
	req, _ := http.NewRequest("GET", h.Srv.URL()+base+"tree", nil)
	req.Header.Set("Authorization", "Bearer "+aliceTok)
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(page), base+"static/") {
		t.Errorf("GET %stree = %s: %.300s", base, resp.Status, page)
	}
	if c := resp.Header.Values("Set-Cookie"); len(c) != 0 {
		t.Errorf("Jupyter's cookies reached the browser: %q", c)
	}

	reached := func(b []byte) bool {
		return strings.Contains(string(b), `"kernels"`) || strings.Contains(string(b), `"content"`)
	}
	for _, tc := range []struct {
		name, token, path string
		hdr               map[string]string
		want              int
	}{
		{"another user", bobTok, base + "api/status", nil, http.StatusNotFound},
		{"another user, contents", bobTok, base + "api/contents", nil, http.StatusNotFound},
		{"no credentials", "", base + "api/status", nil, http.StatusUnauthorized},
		{"a wrong token", "not-a-token", base + "api/status", nil, http.StatusUnauthorized},
		{"a container with no record", aliceTok, "/jupyter/bob/__dev__/api/status", nil, http.StatusNotFound},
		{"another site's page", aliceTok, base + "api/status", map[string]string{"Origin": "https://evil.example"}, http.StatusForbidden},
		{"encoded slashes in the rest", bobTok, "/jupyter/bob/__dev__/..%2F..%2Falice%2F__dev__%2Fapi%2Fstatus", nil, http.StatusBadRequest},
		{"encoded slash in the owner", bobTok, "/jupyter/bob%2F..%2Falice/__dev__/api/status", nil, http.StatusBadRequest},
		{"encoded slash in the name", bobTok, "/jupyter/alice/__dev__%2F..%2F__dev__/api/status", nil, http.StatusBadRequest},
		{"encoded dots", bobTok, "/jupyter/bob/__dev__/%2e%2e/%2e%2e/alice/__dev__/api/status", nil, 0},
		{"dot segments", bobTok, "/jupyter/bob/__dev__/../../alice/__dev__/api/status", nil, 0},
		{"dot segments in the owner's own path", aliceTok, base + "api/contents/%2e%2e/%2e%2e", nil, http.StatusBadRequest},
		{"backslashes", aliceTok, base + "api/contents/..%5c..%5c", nil, http.StatusBadRequest},
	} {
		code, b := jupyterDo(t, h, hc, tc.token, "GET", tc.path, nil, tc.hdr)
		if tc.want != 0 && code != tc.want {
			t.Errorf("%s: %s answered %d %s, want %d", tc.name, tc.path, code, b, tc.want)
		}
		if tc.want == 0 && (code == http.StatusOK || code < 400) {
			t.Errorf("%s: %s answered %d %s, want a refusal", tc.name, tc.path, code, b)
		}
		if reached(b) {
			t.Errorf("%s: %s reached alice's Jupyter: %s", tc.name, tc.path, b)
		}
	}
	// The 404 says nothing more than for a name that does not exist.
	_, missing := jupyterDo(t, h, hc, bobTok, "GET", "/jupyter/nobody/__dev__/api/status", nil, nil)
	_, hidden := jupyterDo(t, h, hc, bobTok, "GET", base+"api/status", nil, nil)
	if got, want := errMessage(hidden), strings.ReplaceAll(errMessage(missing), "nobody", "alice"); got != want {
		t.Errorf("another user's answer %q differs from a missing container's %q", got, want)
	}
	// The refusal is audited with the true reason.
	if all := auditActions(t, h); !hasEvent(all, `"container.jupyter"`, `"bob"`, `denied`) {
		t.Errorf("bob's refused Jupyter request is not audited")
	}
	// A WebSocket of another user is refused before any upgrade.
	wctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	_, resp, err = websocket.Dial(wctx, "wss"+strings.TrimPrefix(h.Srv.URL(), "https")+base+"api/kernels/x/channels", &websocket.DialOptions{
		HTTPClient: hc, HTTPHeader: http.Header{"Authorization": {"Bearer " + bobTok}},
	})
	if err == nil || resp == nil || resp.StatusCode != http.StatusNotFound {
		t.Errorf("bob's WebSocket: %v, %v", resp, err)
	}
}

// errMessage is the message of an API error answer.
func errMessage(b []byte) string {
	var e struct {
		Message string `json:"message"`
		Error   string `json:"error"`
	}
	_ = json.Unmarshal(b, &e)
	return e.Message + e.Error
}

// TestJupyterIdleCull: a development container whose Jupyter saw no
// activity, with no kernel and no fit for containers.idle_timeout, gets
// its final sync and is stopped, audited; the edit made in Jupyter just
// before (which nothing else synced: push-based sync and the periodic
// passes are off or far away) is in the notebook's history.
func TestJupyterIdleCull(t *testing.T) {
	needJupyter(t)
	ctx := context.Background()
	cfg := jupyterConfig(t)
	cfg.Containers.SyncWatchScan = 0
	cfg.Containers.SyncInterval = time.Hour // only the final sync can store the edit in time
	cfg.Containers.IdleTimeout = 5 * time.Second
	h := servertest.StartConfig(t, cfg)
	cleanupContainers(t, h)
	alice, tok := jupyterUser(t, h, "alice", access.RoleContainerUser)
	hc := httpsClient(t, h)
	if _, err := alice.StartContainer(ctx, containers.DevName, wire.ContainerStart{}); err != nil {
		t.Fatalf("start: %v", err)
	}
	base := containers.JupyterPath("alice", containers.DevName)
	waitJupyterReady(t, h, hc, tok, base)
	nb := `{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [{"cell_type": "code", "metadata": {"name": "mltkc_fit"}, "execution_count": null, "outputs": [], "source": "def fit(model, df, param):\n    return {'culled': True}\n"}]}`
	if code, b := jupyterDo(t, h, hc, tok, "PUT", base+"api/contents/late.ipynb", contentsBody(t, []byte(nb)), nil); code != http.StatusCreated {
		t.Fatalf("PUT = %d %s", code, b)
	}
	// A scratch notebook as Jupyter's New button makes it: no named
	// cell, so no sync can store it; it stays in the stopped container
	// and does not keep it running.
	if code, b := jupyterDo(t, h, hc, tok, "POST", base+"api/contents", []byte(`{"type": "notebook"}`), nil); code != http.StatusCreated {
		t.Fatalf("new untitled notebook = %d %s", code, b)
	}
	// Wait for the culler (generous: a loaded machine).
	deadline := time.Now().Add(3 * time.Minute)
	for {
		cs, err := alice.Containers(ctx)
		if err == nil && len(cs) == 1 && cs[0].Status == containers.StatusStopped {
			if !strings.Contains(cs[0].Message, "idle") {
				t.Errorf("message = %q", cs[0].Message)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the idle container was not stopped: %+v, %v", cs, err)
		}
		time.Sleep(250 * time.Millisecond)
	}
	vs, err := alice.NotebookHistory(ctx, "late")
	if err != nil || len(vs) != 1 || vs[0].Source != "container:alice/__dev__" {
		t.Fatalf("the Jupyter edit was lost: %+v, %v", vs, err)
	}
	if b, _, err := alice.NotebookContent(ctx, "late", 1); err != nil || !strings.Contains(string(b), "culled") {
		t.Errorf("stored content = %q, %v", b, err)
	}
	if all := auditActions(t, h); !hasEvent(all, `"container.cull"`, `"system"`, `alice/__dev__`, `"final_sync":"ok"`, `Untitled.ipynb`) {
		t.Errorf("no container.cull audit event with its final sync naming the scratch notebook it could not store")
	}
	if _, err := alice.Notebook(ctx, "Untitled"); err == nil {
		t.Errorf("the scratch notebook was stored")
	}
	// Through the proxy, a stopped container says how to start it.
	if code, b := jupyterDo(t, h, hc, tok, "GET", base+"api/status", nil, nil); code != http.StatusServiceUnavailable || !strings.Contains(string(b), "containers open") {
		t.Errorf("stopped: %d %s", code, b)
	}
}
