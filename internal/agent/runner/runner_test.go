package runner

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dockyard/dockyard/internal/agent/internal/testlog"
)

// bare returns the first python3 on PATH, skipping when there is none.
func bare(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 is not on PATH; the runner needs a Python interpreter")
	}
	return p
}

// withPandas returns Debian's /usr/bin/python3 when it imports pandas and
// numpy, skipping otherwise.
func withPandas(t *testing.T) string {
	t.Helper()
	const py = "/usr/bin/python3"
	if err := exec.Command(py, "-c", "import pandas, numpy").Run(); err != nil {
		t.Skipf("%s cannot import pandas and numpy (%v); install python3-pandas python3-numpy", py, err)
	}
	return py
}

type env struct {
	r        *Runner
	nb, mdir string
	dir      string
}

func start(t *testing.T, python, pandas string) *env {
	t.Helper()
	dir := t.TempDir()
	e := &env{nb: filepath.Join(dir, "notebooks"), mdir: filepath.Join(dir, "app", "model", "data"), dir: dir}
	for _, d := range []string{e.nb, e.mdir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	r, err := Start(ctx, Options{Python: python, NotebooksDir: e.nb, ModelDir: e.mdir, ScriptDir: filepath.Join(dir, ".runner"),
		Pandas: pandas, Logger: testlog.New(t)})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() { r.Close() })
	e.r = r
	return e
}

func (e *env) write(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(e.nb, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func (e *env) call(t *testing.T, req Request) (Result, []Event) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var evs []Event
	res, err := e.r.Call(ctx, req, func(ev Event) { evs = append(evs, ev) })
	if err != nil {
		t.Fatalf("Call(%s %s): %v", req.Op, req.Notebook, err)
	}
	return res, evs
}

const linearCSV = "x1,x2,y\n1,2,8\n2,1,6\n3,5,19\n4,3,14\n5,7,27\n6,1,10\n"

func meta() json.RawMessage {
	return json.RawMessage(`{"options":{"params":{"algo":"linear_regression"},"model_name":"M"},"feature_variables":["x1","x2"],"target_variables":["y"]}`)
}

func copyExample(t *testing.T, e *env, name string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "..", "examples", "notebooks", name))
	if err != nil {
		t.Fatal(err)
	}
	e.write(t, name, string(b))
}

func TestLinearRegressionNotebook(t *testing.T) {
	for _, tc := range []struct {
		name   string
		python func(*testing.T) string
		pandas string
	}{
		{"plain python", bare, "never"},
		{"pandas", withPandas, "require"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := start(t, tc.python(t), tc.pandas)
			copyExample(t, e, "linear_regression.ipynb")
			data := e.write(t, "data/in.csv", linearCSV)
			out := filepath.Join(e.dir, "out.csv")
			res, evs := e.call(t, Request{Op: "fit", Notebook: "linear_regression", SaveName: "linear_regression_M", Data: data, Results: out, Meta: meta()})
			if res.Status != "success" {
				t.Fatalf("fit: %s: %s", res.Status, res.Message)
			}
			if res.Rows != 6 || res.ResultRows != 6 {
				t.Errorf("rows = %d, result rows = %d, want 6 and 6", res.Rows, res.ResultRows)
			}
			var printed bool
			for _, ev := range evs {
				printed = printed || ev.Type == "log" && strings.Contains(ev.Line, "fitted 6 rows")
			}
			if !printed {
				t.Errorf("the notebook's print() did not arrive as a log event: %+v", evs)
			}
			saved, err := os.ReadFile(filepath.Join(e.mdir, "linear_regression_M.json"))
			if err != nil {
				t.Fatalf("save wrote no file: %v", err)
			}
			var m struct {
				Intercept float64   `json:"intercept"`
				Coef      []float64 `json:"coefficients"`
			}
			if err := json.Unmarshal(saved, &m); err != nil {
				t.Fatal(err)
			}
			// y = 1 + 1*x1 + 3*x2 exactly
			if len(m.Coef) != 2 || abs(m.Intercept-1) > 1e-6 || abs(m.Coef[0]-1) > 1e-6 || abs(m.Coef[1]-3) > 1e-6 {
				t.Errorf("model = %+v, want intercept 1, coefficients [1 3]", m)
			}
			e.write(t, "data/in.csv", "x1,x2\n10,10\n")
			res, _ = e.call(t, Request{Op: "apply", Notebook: "linear_regression", SaveName: "linear_regression_M", Data: data, Results: out, Meta: meta()})
			if res.Status != "success" {
				t.Fatalf("apply: %s", res.Message)
			}
			got, _ := os.ReadFile(out)
			lines := strings.Split(strings.TrimSpace(string(got)), "\n")
			if len(lines) != 2 || lines[0] != "prediction" || abs(parseFloat(lines[1])-41) > 1e-6 {
				t.Errorf("apply results = %q, want prediction 41", got)
			}
			res, _ = e.call(t, Request{Op: "summary", Notebook: "linear_regression", SaveName: "linear_regression_M"})
			if res.Status != "success" || !strings.Contains(string(res.Summary), `"r2"`) {
				t.Errorf("summary = %+v, want r2", res)
			}
		})
	}
}

func abs(f float64) float64 {
	if f < 0 {
		return -f
	}
	return f
}

func parseFloat(s string) float64 {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return -1e300
	}
	return f
}
