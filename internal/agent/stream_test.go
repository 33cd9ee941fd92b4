package agent_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dockyard/dockyard/internal/agent"
	"github.com/dockyard/dockyard/internal/agent/agentclient"
	"github.com/dockyard/dockyard/internal/agent/agenttest"
	"github.com/dockyard/dockyard/internal/errdefs"
)

// bestPython prefers Debian's python with pandas, else the bare python3.
func bestPython(t *testing.T) string {
	if exec.Command("/usr/bin/python3", "-c", "import pandas").Run() == nil {
		return "/usr/bin/python3"
	}
	return bare(t)
}

// rowsReader generates n rows of four numeric columns as CSV without
// holding them in memory.
type rowsReader struct {
	n, i int
	buf  bytes.Buffer
}

func newRows(n int) *rowsReader {
	r := &rowsReader{n: n}
	r.buf.WriteString("a,b,c,d\n")
	return r
}

func (r *rowsReader) Read(p []byte) (int, error) {
	for r.buf.Len() < len(p) && r.i < r.n {
		fmt.Fprintf(&r.buf, "%d,%d.5,%d.25,%d\n", r.i, r.i%97, r.i%13, r.i*3)
		r.i++
	}
	if r.buf.Len() == 0 {
		return 0, io.EOF
	}
	return r.buf.Read(p)
}

func client(a *agenttest.Agent) *agentclient.Client { return agentclient.New(a.URL, a.Token, a.Client) }

func TestStreamFitApply100kRows(t *testing.T) {
	a := agenttest.Start(t, agenttest.Options{Python: bestPython(t)})
	c := client(a)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if _, err := c.PutNotebook(ctx, "barebone_template.ipynb", readNotebook(t, "barebone_template.ipynb")); err != nil {
		t.Fatal(err)
	}
	meta, _ := json.Marshal(map[string]any{"options": map[string]any{"params": map[string]string{"algo": "barebone_template"}, "model_name": "Big"}})
	const n = 100_000
	var progress []int64
	var logs []string
	var results strings.Builder
	done, err := c.FitStream(ctx, meta, newRows(n), func(f agent.Frame) {
		switch f.Type {
		case "progress":
			if f.Rows > 0 {
				progress = append(progress, f.Rows)
			}
		case "log":
			logs = append(logs, f.Line)
		case "results":
			results.WriteString(f.CSV)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if done.Status != "success" || done.Rows != n || done.ResultRows != n {
		t.Fatalf("done = %+v, want success with %d rows in and out", done, n)
	}
	if len(progress) == 0 || progress[len(progress)-1] != n {
		t.Errorf("progress rows = %v, want ending at %d", progress, n)
	}
	if strings.Join(logs, "|") != fmt.Sprintf("received %d rows", n) {
		t.Errorf("log frames = %q, want the notebook's print", logs)
	}
	lines := strings.Split(strings.TrimSuffix(results.String(), "\n"), "\n")
	// Without pandas the runner writes numbers as Python floats ("99999.0").
	if last := lines[len(lines)-1]; len(lines) != n+1 || lines[0] != "a" || (last != fmt.Sprint(n-1) && last != fmt.Sprint(n-1)+".0") {
		t.Errorf("results: %d lines, first %q, last %q; want header a and %d rows", len(lines), lines[0], lines[len(lines)-1], n)
	}
	if len(done.Files) != 1 || done.Files[0].Path != "barebone_template_Big.json" {
		t.Errorf("files = %+v, want the file save wrote", done.Files)
	}
	// Apply through the stream loads the saved model.
	results.Reset()
	done, err = c.ApplyStream(ctx, meta, strings.NewReader("a,b\n1,2\n3,4"), func(f agent.Frame) { results.WriteString(f.CSV) })
	if err != nil || done.Status != "success" || done.Rows != 2 {
		t.Fatalf("apply stream: %+v, %v", done, err)
	}
	if got := results.String(); got != "a\n1\n3\n" && got != "a\n1.0\n3.0\n" {
		t.Errorf("apply results = %q", got)
	}
	// A notebook error arrives as the done frame, with its traceback.
	c.PutNotebook(ctx, "bad.py", []byte("def init(df, p):\n    return None\ndef fit(m, df, p):\n    print('epoch 1')\n    raise ValueError('diverged')\ndef apply(m, df, p):\n    return df\n"))
	badMeta := bytes.Replace(meta, []byte("barebone_template"), []byte("bad"), 1)
	done, err = c.FitStream(ctx, badMeta, newRows(10), nil)
	if err != nil || done.Status != "error" || !strings.Contains(done.Message, "ValueError: diverged") {
		t.Errorf("failing stream fit: %+v, %v", done, err)
	}
	// mode=stage stores the streamed rows.
	stageMeta, _ := json.Marshal(map[string]any{"options": map[string]any{"params": map[string]string{"algo": "bad", "mode": "stage"}, "model_name": "S"}})
	if done, err = c.FitStream(ctx, stageMeta, newRows(5), nil); err != nil || done.Status != "staged" || done.Rows != 5 {
		t.Errorf("stage stream: %+v, %v", done, err)
	}
}

func TestFilesAndNotebooks(t *testing.T) {
	a := agenttest.Start(t, agenttest.Options{Python: bare(t)})
	c := client(a)
	ctx := context.Background()
	content := []byte(`{"coefficients": [1, 2]}`)
	sum := sha256.Sum256(content)
	hexSum := hex.EncodeToString(sum[:])
	fi, err := c.PutModelFile(ctx, "sub/m.json", bytes.NewReader(content), hexSum)
	if err != nil || fi.SHA256 != hexSum || fi.Size != int64(len(content)) {
		t.Fatalf("PutModelFile: %+v, %v", fi, err)
	}
	if _, err := c.PutModelFile(ctx, "sub/m.json", strings.NewReader("tampered"), hexSum); !errdefs.IsInvalid(err) {
		t.Errorf("PutModelFile with a wrong digest: %v, want invalid", err)
	}
	files, err := c.ModelFiles(ctx)
	if err != nil || len(files) != 1 || files[0] != fi {
		t.Errorf("ModelFiles = %+v, %v; want [%+v] (the tampered upload must not have replaced it)", files, err, fi)
	}
	rc, err := c.OpenModelFile(ctx, "sub/m.json")
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(rc)
	rc.Close()
	if !bytes.Equal(got, content) {
		t.Errorf("download = %q", got)
	}
	for _, p := range []string{"../escape", "sub/../../x", "a%5Cb", "%2E%2E/x"} {
		resp := a.Do(t, "PUT", "/v1/model/files/"+p, []byte("x"), nil)
		resp.Body.Close()
		if resp.StatusCode < 300 {
			t.Errorf("PUT model file %q: %d, want refused", p, resp.StatusCode)
		}
	}
	if err := c.DeleteModelFile(ctx, "sub/m.json"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.OpenModelFile(ctx, "sub/m.json"); !errdefs.IsNotFound(err) {
		t.Errorf("after delete: %v, want not found", err)
	}
	if _, err := c.PutNotebook(ctx, "broken.ipynb", []byte("{not json")); !errdefs.IsInvalid(err) {
		t.Errorf("PutNotebook with invalid JSON: %v, want invalid", err)
	}
	if _, err := c.PutNotebook(ctx, "x.txt", []byte("x")); !errdefs.IsInvalid(err) {
		t.Errorf("PutNotebook x.txt: %v, want invalid", err)
	}
	nb := readNotebook(t, "linear_regression.ipynb")
	if _, err := c.PutNotebook(ctx, "linear_regression.ipynb", nb); err != nil {
		t.Fatal(err)
	}
	if back, err := c.GetNotebook(ctx, "linear_regression.ipynb"); err != nil || !bytes.Equal(back, nb) {
		t.Errorf("GetNotebook: %d bytes, %v", len(back), err)
	}
	// A symlink a notebook leaves in notebooks/ does not make the agent
	// serve a file from outside it.
	secret := filepath.Join(t.TempDir(), "outside.txt")
	os.WriteFile(secret, []byte("host secret"), 0o600)
	if err := os.Symlink(secret, filepath.Join(a.Root, "notebooks", "leak.py")); err != nil {
		t.Fatal(err)
	}
	if b, err := c.GetNotebook(ctx, "leak.py"); !errdefs.IsNotFound(err) || bytes.Contains(b, []byte("host secret")) {
		t.Errorf("GetNotebook through a symlink out of notebooks/: %q, %v; want not found", b, err)
	}
}
