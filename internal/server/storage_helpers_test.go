package server_test

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dockyard/dockyard/internal/access"
	"github.com/dockyard/dockyard/internal/client"
	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/models"
	"github.com/dockyard/dockyard/internal/server/servertest"
	"github.com/dockyard/dockyard/internal/store"
)

// randomText returns n hex digits no other call returns.
func randomText(t *testing.T, n int) string {
	t.Helper()
	b := make([]byte, (n+1)/2)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)[:n]
}

// maxImport is the models.max_import_bytes of the storage tests' servers.
const maxImport = 64 << 10

// startStorage starts a server whose imports are capped at maxImport and
// whose periodic collection is off (the tests run it).
func startStorage(t *testing.T, dir string) *servertest.Harness {
	t.Helper()
	cfg := servertest.Config(dir)
	cfg.Models.MaxImportBytes = maxImport
	cfg.Storage.GCInterval = 0
	return servertest.StartConfig(t, cfg)
}

// populate gives the server live objects of every kind, and garbage: a
// deleted model, a deleted lookup, and two refused imports.
func populate(t *testing.T, h *servertest.Harness) (alice *client.Client) {
	t.Helper()
	ctx := context.Background()
	alice = h.User("alice", access.RoleUser)
	if _, _, err := alice.ImportModelDir(ctx, "keep", modelDir(t, map[string]string{"model.pkl": "weights-1", "cols.json": `["a"]`}), "sklearn"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := alice.ImportModelDir(ctx, "keep", modelDir(t, map[string]string{"model.pkl": "weights-2", "cols.json": `["a"]`}), "sklearn"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := alice.ImportModelDir(ctx, "gone", modelDir(t, map[string]string{"model.pkl": randomText(t, 5000)}), "sklearn"); err != nil {
		t.Fatal(err)
	}
	if err := alice.DeleteModel(ctx, "gone"); err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"def fit(model, df, param):\n    return {}\n", "def fit(model, df, param):\n    return {'v': 2}\n"} {
		if _, err := alice.PushNotebook(ctx, "nb", "py", "", []byte(v)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := alice.UploadLookup(ctx, "iris.csv", strings.NewReader("a,b\n1,2\n")); err != nil {
		t.Fatal(err)
	}
	if _, err := alice.UploadLookup(ctx, "scratch.csv", strings.NewReader("a,b\n"+randomText(t, 3000)+",1\n")); err != nil {
		t.Fatal(err)
	}
	if err := alice.DeleteLookup(ctx, "scratch.csv"); err != nil {
		t.Fatal(err)
	}
	// Refused: larger than models.max_import_bytes (its first file is
	// stored before the limit is reached).
	big := modelDir(t, map[string]string{"a.bin": randomText(t, 40<<10), "b.bin": randomText(t, 40<<10)})
	if _, _, err := alice.ImportModelDir(ctx, "toobig", big, ""); !errdefs.IsInvalid(err) {
		t.Fatalf("import over max_import_bytes = %v, want refused", err)
	}
	// Refused: a file changed after the manifest was written.
	var archive bytes.Buffer
	if _, err := alice.ExportModel(ctx, "keep", &archive); err != nil {
		t.Fatal(err)
	}
	tampered := bytes.Replace(archive.Bytes(), []byte("weights-2"), []byte("weights-X"), 1)
	if _, err := alice.ImportModelTar(ctx, "tampered", "", bytes.NewReader(tampered)); !errdefs.IsInvalid(err) {
		t.Fatalf("import of a tampered archive = %v, want refused", err)
	}
	if err := h.Srv.Store().InsertEvents(ctx, []store.EventRecord{{Index: "main", Time: time.Now(), Raw: "deploy finished build=42"}}); err != nil {
		t.Fatal(err)
	}
	return alice
}

// blobFiles lists the blob store's files by digest, with their sizes.
func blobFiles(t *testing.T, data string) (map[string]int64, int64) {
	t.Helper()
	out := map[string]int64{}
	var total int64
	root := filepath.Join(data, "blobs", "sha256")
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		out["sha256:"+d.Name()] = info.Size()
		total += info.Size()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out, total
}

// referenced lists, straight from the tables and the manifest files, every
// digest that live objects reference.
func referenced(t *testing.T, h *servertest.Harness) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	db := h.Srv.SQLite().SQL()
	for _, q := range []string{`SELECT digest FROM lookups`, `SELECT digest FROM notebook_versions`, `SELECT digest FROM model_versions`} {
		rows, err := db.Query(q)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var d string
			if err := rows.Scan(&d); err != nil {
				t.Fatal(err)
			}
			out[d] = true
			if strings.Contains(q, "model_versions") {
				b, err := os.ReadFile(filepath.Join(h.Data, "blobs", "sha256", d[7:9], d[7:]))
				if err != nil {
					t.Fatalf("manifest %s: %v", d, err)
				}
				var m models.Manifest
				if err := json.Unmarshal(b, &m); err != nil {
					t.Fatal(err)
				}
				for _, f := range m.Files {
					out[string(f.Digest)] = true
				}
			}
		}
		rows.Close()
	}
	return out
}

func metricValue(t *testing.T, h *servertest.Harness, name string) float64 {
	t.Helper()
	mfs, err := h.Srv.Metrics().Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			var sum float64
			for _, m := range mf.GetMetric() {
				sum += m.GetCounter().GetValue()
			}
			return sum
		}
	}
	t.Fatalf("metric %s not registered", name)
	return 0
}

// tarEntries returns the names in a tar file.
func tarEntries(t *testing.T, b []byte) []string {
	t.Helper()
	var names []string
	tr := tar.NewReader(bytes.NewReader(b))
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return names
		}
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, h.Name)
	}
}
