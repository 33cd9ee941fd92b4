package server_test

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/dockyard/dockyard/internal/access"
	"github.com/dockyard/dockyard/internal/agent/agentclient"
	"github.com/dockyard/dockyard/internal/client"
	"github.com/dockyard/dockyard/internal/containers"
	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/server/servertest"
	"github.com/dockyard/dockyard/internal/wire"
)

// markerNotebook is a notebook whose apply answers a constant baked into
// its code, so that a prediction says which version of the code ran.
func markerNotebook(marker string) string {
	return `import json, os

MARKER = ` + marker + `

def init(df, param):
    return {"marker": MARKER}

def fit(model, df, param):
    return {"marker": MARKER}

def save(model, name):
    with open(os.path.join(MODEL_DIRECTORY, name + ".json"), "w") as f:
        json.dump(model, f)

def load(name):
    with open(os.path.join(MODEL_DIRECTORY, name + ".json")) as f:
        return json.load(f)

def apply(model, df, param):
    return [{"marker": MARKER} for _ in range(len(df))]

def summary(model=None):
    return {"marker": MARKER, "trained_with": (model or {}).get("marker")}
`
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// startPythonServer starts a test server whose process runtime runs
// notebooks with Debian's python3 where it is installed.
func startPythonServer(t *testing.T) *servertest.Harness {
	t.Helper()
	needPython(t)
	cfg := servertest.Config(t.TempDir())
	if _, err := os.Stat("/usr/bin/python3"); err == nil {
		cfg.Containers.Python = "/usr/bin/python3"
	}
	h := servertest.StartConfig(t, cfg)
	cleanupContainers(t, h)
	return h
}

func markers(t *testing.T, res wire.SearchResults) []string {
	t.Helper()
	var out []string
	for _, r := range res.Results {
		v, _ := r.Get("predicted_y")
		out = append(out, v)
	}
	return out
}

// TestSharedModelRunsRecordedNotebook: alice trains an app-shared model
// from her private notebook; bob, who may read the model but not the
// notebook, applies it and gets its summary, and the code that runs is
// exactly the notebook version the model version recorded, even after
// alice pushes a new version. bob still cannot see the notebook, the
// sync does not store alice's code as bob's, and a changed stored copy is
// refused rather than run.
func TestSharedModelRunsRecordedNotebook(t *testing.T) {
	ctx := context.Background()
	h := startPythonServer(t)
	alice := h.User("alice", access.RoleContainerUser, access.RolePower) // power: sharing into the app search
	bob := h.User("bob", access.RoleContainerUser, access.RolePower)     // power: imports into the app search

	v1 := markerNotebook("111")
	if _, err := alice.PushNotebook(ctx, "marker", "py", "", []byte(v1)); err != nil {
		t.Fatalf("push v1: %v", err)
	}
	if _, err := alice.UploadLookup(ctx, "d.csv", strings.NewReader("x,y\n1,2\n2,4\n3,6\n")); err != nil {
		t.Fatal(err)
	}
	mlSearch(t, alice, "| inputlookup d.csv | fit MLTKContainer algo=marker y from x into app:Shared")

	sum, err := alice.Model(ctx, "app:Shared")
	if err != nil {
		t.Fatal(err)
	}
	if want := "sha256:" + sha256Hex([]byte(v1)); sum.NotebookDigest != want || sum.NotebookVersion != 1 ||
		sum.NotebookFormat != "py" || !sum.NotebookPinned || sum.Notebook != "marker" {
		t.Fatalf("lineage = %+v, want notebook marker version 1 (py, pinned) with digest %s", sum.ModelLineage, want)
	}

	if all := auditActions(t, h); !hasEvent(all, `"model.fit"`, `"notebook_digest":"`+sum.NotebookDigest+`"`) {
		t.Errorf("the fit's audit event does not name the notebook digest %s", sum.NotebookDigest)
	}
	// alice's newest notebook now answers 222; the model's code stays 111.
	if _, err := alice.PushNotebook(ctx, "marker", "py", "", []byte(markerNotebook("222"))); err != nil {
		t.Fatalf("push v2: %v", err)
	}
	apply := "| makeresults count=2 | eval x=5 | apply app:Shared"
	for name, c := range map[string]*client.Client{"bob": bob, "alice": alice} {
		if got := markers(t, mlSearch(t, c, apply)); !slices.Equal(got, []string{"111", "111"}) {
			t.Errorf("%s's apply predicted %v, want the recorded version's 111 111", name, got)
		}
	}
	kv := kvOf(mlSearch(t, bob, "| summary app:Shared"))
	if kv["notebook.marker"] != "111" || kv["notebook.trained_with"] != "111" || kv["notebook_digest"] != sum.NotebookDigest {
		t.Errorf("bob's summary = %v, want notebook.marker 111 from the recorded version", kv)
	}
	// A new fit records the new version.
	mlSearch(t, alice, "| inputlookup d.csv | fit MLTKContainer algo=marker y from x into app:Shared")
	if got := markers(t, mlSearch(t, bob, apply)); !slices.Equal(got, []string{"222", "222"}) {
		t.Errorf("version 2 of the model predicted %v, want 222 222", got)
	}
	if got := markers(t, mlSearch(t, bob, strings.Replace(apply, "app:Shared", "app:Shared@1", 1))); !slices.Equal(got, []string{"111", "111"}) {
		t.Errorf("version 1 of the model predicted %v after a re-fit, want 111 111", got)
	}

	t.Run("bob still cannot read the notebook", func(t *testing.T) {
		if _, err := bob.NotebookHistory(ctx, "marker"); !errdefs.IsNotFound(err) {
			t.Errorf("bob's notebooks history = %v, want not found", err)
		}
		if _, err := bob.Notebook(ctx, "marker"); !errdefs.IsNotFound(err) {
			t.Errorf("bob's notebooks show = %v, want not found", err)
		}
		if _, _, err := bob.NotebookContent(ctx, "marker", 1); !errdefs.IsNotFound(err) {
			t.Errorf("bob's notebook content = %v, want not found", err)
		}
		if l, err := bob.Notebooks(ctx); err != nil || len(l) != 0 {
			t.Errorf("bob's notebooks = %+v, %v, want none", l, err)
		}
	})

	t.Run("the sync does not store alice's code as bob's", func(t *testing.T) {
		sy, err := h.Srv.NotebookSyncer()
		if err != nil {
			t.Fatal(err)
		}
		rep, err := sy.SyncOnce(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range rep.Stored {
			if strings.HasPrefix(s, "bob/") {
				t.Errorf("sync stored %q", s)
			}
		}
		if l, err := bob.Notebooks(ctx); err != nil || len(l) != 0 {
			t.Errorf("bob's notebooks after a sync = %+v, %v, want none", l, err)
		}
		ag := agentOf(t, h, "bob")
		files, err := ag.ListNotebooks(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(files) != 0 {
			t.Errorf("bob's notebooks directory holds %+v; the recorded code belongs apart from it", files)
		}
	})

	t.Run("a notebook of the same name in the container is neither run nor overwritten", func(t *testing.T) {
		mine := markerNotebook("333")
		if _, err := bob.PushNotebook(ctx, "marker", "py", "", []byte(mine)); err != nil {
			t.Fatal(err)
		}
		ag := agentOf(t, h, "bob")
		if _, err := ag.PutNotebook(ctx, "marker.py", []byte(mine)); err != nil {
			t.Fatal(err)
		}
		if got := markers(t, mlSearch(t, bob, strings.Replace(apply, "app:Shared", "app:Shared@1", 1))); !slices.Equal(got, []string{"111", "111"}) {
			t.Errorf("apply of alice's model with bob's own marker.py in his container predicted %v, want 111 111", got)
		}
		if b, err := ag.GetNotebook(ctx, "marker.py"); err != nil || string(b) != mine {
			t.Errorf("bob's marker.py after the apply = %q, %v; want it untouched", b, err)
		}
		// bob's own fit of that name runs his own notebook.
		mlSearch(t, bob, "| makeresults count=2 | eval x=1, y=2 | fit MLTKContainer algo=marker y from x into Mine")
		if got := markers(t, mlSearch(t, bob, strings.Replace(apply, "app:Shared", "Mine", 1))); !slices.Equal(got, []string{"333", "333"}) {
			t.Errorf("bob's own model predicted %v, want 333 333", got)
		}
	})

	t.Run("an imported lineage does not pin code", func(t *testing.T) {
		// bob forges an archive whose lineage names alice's notebook
		// version: knowing a digest must not let him run (and so read)
		// code he may not read. (Imported under the same model name, so
		// that the saved files' names still match.)
		var buf bytes.Buffer
		if _, err := bob.ExportModel(ctx, "Mine", &buf); err != nil {
			t.Fatal(err)
		}
		forged := rewriteTar(t, buf.Bytes(), "metadata.json", func(b []byte) []byte {
			var meta map[string]any
			if err := json.Unmarshal(b, &meta); err != nil {
				t.Fatal(err)
			}
			lin := meta["lineage"].(map[string]any)
			lin["notebook_digest"], lin["notebook_pinned"], lin["notebook_format"], lin["notebook_version"] = sum.NotebookDigest, true, "py", 1
			out, _ := json.Marshal(meta)
			return out
		})
		// A forger drops the server's signature, which no longer verifies
		// (a signed archive changed after signing is refused).
		forged = rewriteTar(t, forged, "signature.json", func([]byte) []byte { return nil })
		if _, err := bob.ImportModelTar(ctx, "app:Mine", "", bytes.NewReader(forged)); err != nil {
			t.Fatalf("import: %v", err)
		}
		if v, err := bob.Model(ctx, "app:Mine"); err != nil || v.NotebookPinned || v.NotebookDigest != sum.NotebookDigest {
			t.Fatalf("imported lineage = %+v, %v; want the record kept, unpinned", v.ModelLineage, err)
		}
		res := mlSearch(t, bob, strings.Replace(apply, "app:Shared", "app:Mine", 1))
		if got := markers(t, res); !slices.Equal(got, []string{"333", "333"}) {
			t.Errorf("the forged model predicted %v, want bob's own notebook's 333 333", got)
		}
		if !hasMessage(res.Messages, "was imported", sum.NotebookDigest) {
			t.Errorf("messages = %v, want one saying the imported version runs bob's notebook, not its lineage's digest", res.Messages)
		}
	})

	t.Run("a changed copy in the container is not run", func(t *testing.T) {
		ag := agentOf(t, h, "bob")
		sha := sha256Hex([]byte(v1))
		if _, err := ag.PutPinnedNotebook(ctx, sha, "py", []byte(markerNotebook("999"))); !errdefs.IsInvalid(err) {
			t.Errorf("placing other content under v1's digest = %v, want invalid", err)
		}
		pinned, _ := filepath.Glob(filepath.Join(h.Data, "containers", "*", "root", ".dockyard", "pinned", sha+".py"))
		if len(pinned) == 0 {
			t.Fatal("no container holds the pinned copy of v1")
		}
		for _, p := range pinned {
			if err := os.WriteFile(p, []byte(markerNotebook("999")), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		meta := json.RawMessage(`{"options":{"params":{"algo":"marker"},"model_name":"Shared"}}`)
		done, err := ag.ApplyStreamPinned(ctx, sha, meta, strings.NewReader("x\n5\n"), nil)
		if err != nil || done.Status != "error" || !strings.Contains(done.Message, "changed after it was placed") {
			t.Errorf("apply of a changed pinned copy = %+v, %v; want an error saying it was changed", done, err)
		}
		// Through the server, the recorded version is placed again first.
		if got := markers(t, mlSearch(t, bob, strings.Replace(apply, "app:Shared", "app:Shared@1", 1))); !slices.Equal(got, []string{"111", "111"}) {
			t.Errorf("apply after the container's copy changed predicted %v, want 111 111", got)
		}
	})

	t.Run("a changed stored notebook is refused", func(t *testing.T) {
		hexd := strings.TrimPrefix(sum.NotebookDigest, "sha256:")
		p := filepath.Join(h.Data, "blobs", "sha256", hexd[:2], hexd)
		if err := os.Chmod(p, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(markerNotebook("999")), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := bob.SearchAll(ctx, "| makeresults count=1 | eval x=5 | apply app:Shared@1", "")
		if err == nil || !strings.Contains(err.Error(), "notebook marker version 1") || !strings.Contains(err.Error(), sum.NotebookDigest) {
			t.Errorf("apply with a changed stored notebook = %v, want a refusal naming the recorded version and digest", err)
		}
		res := mlSearch(t, bob, "| summary app:Shared@1")
		if kvOf(res)["notebook.marker"] != "" || !hasMessage(res.Messages, "cannot be run") {
			t.Errorf("summary with a changed stored notebook = %v %v, want no notebook summary and a message", kvOf(res), res.Messages)
		}
	})
}

// agentOf returns the agent of user's development container.
func agentOf(t *testing.T, h *servertest.Harness, user string) *agentclient.Client {
	t.Helper()
	ctx := context.Background()
	p, err := h.Srv.Access().EffectivePrincipal(ctx, user, "")
	if err != nil {
		t.Fatal(err)
	}
	hd, err := h.Srv.Containers().Ensure(ctx, p, containers.DevName, containers.EnsureOptions{})
	if err != nil {
		t.Fatalf("Ensure %s's container: %v", user, err)
	}
	return hd.Agent()
}

// rewriteTar returns the archive with the entry name's content changed by f.
func rewriteTar(t *testing.T, archive []byte, name string, f func([]byte) []byte) []byte {
	t.Helper()
	tr := tar.NewReader(bytes.NewReader(archive))
	var out bytes.Buffer
	tw := tar.NewWriter(&out)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		if hdr.Name == name {
			if b = f(b); b == nil {
				continue // dropped
			}
			hdr.Size = int64(len(b))
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(b); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}
