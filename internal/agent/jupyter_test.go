package agent_test

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dockyard/dockyard/internal/agent"
	"github.com/dockyard/dockyard/internal/agent/agenttest"
)

// needJupyter skips where Debian's classic Notebook is not installed (CI
// installs it).
func needJupyter(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("jupyter-notebook"); err != nil {
		t.Skip("jupyter-notebook is not installed (Debian: apt-get install jupyter-notebook python3-notebook python3-ipykernel)")
	}
}

func jupyterStatus(t *testing.T, a *agenttest.Agent) agent.JupyterStatus {
	t.Helper()
	resp := a.Do(t, "GET", "/v1/jupyter", nil, nil)
	defer resp.Body.Close()
	var st agent.JupyterStatus
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("GET /v1/jupyter = %s: %s", resp.Status, b)
	}
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		t.Fatal(err)
	}
	return st
}

// waitJupyter waits (generously: a loaded machine) until the agent's
// Jupyter answers.
func waitJupyter(t *testing.T, a *agenttest.Agent) agent.JupyterStatus {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		st := jupyterStatus(t, a)
		if st.Ready {
			return st
		}
		if !st.Enabled || time.Now().After(deadline) {
			t.Fatalf("Jupyter not ready: %+v", st)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestAgentJupyter starts an agent as a development container: it runs
// Debian's Jupyter on a socket under its (long) root, proxies the contents
// API under the base URL with its own token, keeps Jupyter's cookies to
// itself, and writes saves into notebooks/.
func TestAgentJupyter(t *testing.T) {
	needJupyter(t)
	base := "/jupyter/alice/__dev__/"
	a := agenttest.Start(t, agenttest.Options{Python: bare(t), JupyterBaseURL: base})
	st := waitJupyter(t, a)
	if !strings.HasSuffix(st.Program, "jupyter-notebook") || st.BaseURL != base || st.Kernels != 0 {
		t.Errorf("status = %+v", st)
	}
	// The Jupyter socket's directory is private.
	if fi, err := os.Stat(filepath.Join(a.Root, ".dockyard", "jupyter")); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("state dir: %v %v", fi, err)
	}
	if _, err := os.Stat(filepath.Join(a.Root, ".dockyard", "jupyter", "config.json")); !os.IsNotExist(err) {
		t.Errorf("Jupyter's config file (with its token) is still there: %v", err)
	}

	nb := `{"type": "notebook", "content": {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [{"cell_type": "code", "metadata": {"name": "mltkc_fit"}, "source": "def fit(model, df, param):\n    return {}\n", "outputs": [], "execution_count": null}]}}`
	resp := a.Do(t, "PUT", base+"api/contents/j.ipynb", []byte(nb), map[string]string{"Cookie": "dockyard_session=secret", "Origin": "https://evil.example"})
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("PUT contents = %s: %s", resp.Status, b)
	}
	if c := resp.Header.Values("Set-Cookie"); len(c) != 0 {
		t.Errorf("Jupyter's cookies reached the caller: %q", c)
	}
	saved, err := os.ReadFile(filepath.Join(a.Root, "notebooks", "j.ipynb"))
	if err != nil || !strings.Contains(string(saved), `"name": "mltkc_fit"`) {
		t.Fatalf("saved notebook = %q, %v", saved, err)
	}

	// Without the agent's token: 401, nothing reaches Jupyter.
	req, _ := http.NewRequest("GET", a.URL+base+"api/contents", nil)
	resp, err = a.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("without token: %s, want 401", resp.Status)
	}
	// Outside the base URL: 404.
	resp = a.Do(t, "GET", "/jupyter/bob/__dev__/api/contents", nil, nil)
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("other base URL: %s, want 404", resp.Status)
	}
	// Reading does not count as a job; the status does not count as
	// Jupyter activity.
	before := jupyterStatus(t, a).LastActivity
	after := jupyterStatus(t, a).LastActivity
	if !after.Equal(before) || before.IsZero() {
		t.Errorf("last activity moved with a status read: %v → %v", before, after)
	}
}

// TestAgentWithoutJupyter: a container that is not a development container
// answers 404 under /jupyter/ and says why in its status.
func TestAgentWithoutJupyter(t *testing.T) {
	a := agenttest.Start(t, agenttest.Options{Python: bare(t)})
	st := jupyterStatus(t, a)
	if st.Enabled || st.Ready || !strings.Contains(st.Reason, "not a development container") || st.AgentStarted.IsZero() {
		t.Errorf("status = %+v", st)
	}
	resp := a.Do(t, "GET", "/jupyter/alice/__dev__/api/status", nil, nil)
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET under /jupyter/ = %s, want 404", resp.Status)
	}
}
