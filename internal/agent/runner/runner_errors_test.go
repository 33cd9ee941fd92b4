package runner

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestNotebookFailures(t *testing.T) {
	e := start(t, bare(t), "auto")
	data := e.write(t, "data/in.csv", "a,b\n1,2\n3,\n")
	out := filepath.Join(e.dir, "out.csv")
	for _, tc := range []struct {
		name, file, src string
		op              string
		want            []string
	}{
		{"raises", "raises.py", "def init(df, param):\n    return {}\n\ndef fit(model, df, param):\n    return helper(df)\n\ndef helper(df):\n    return 1 / 0\n\ndef apply(m, df, p):\n    pass\n",
			"fit", []string{"Traceback", "ZeroDivisionError: division by zero", "raises.py\", line 8, in helper", "return 1 / 0"}},
		{"missing fit", "nofit.py", "def init(df, param):\n    return {}\n", "fit",
			[]string{"notebook 'nofit' (nofit.py) defines no function fit()", "mltkc_fit"}},
		{"missing apply", "noapply.py", "def init(df, param):\n    return {}\n", "apply",
			[]string{"defines no function apply()"}},
		{"no named cells", "plain.ipynb", `{"cells":[{"cell_type":"code","metadata":{},"source":"x=1"}],"nbformat":4,"nbformat_minor":5,"metadata":{}}`, "fit",
			[]string{"has no code cell with a 'name'"}},
		{"exits", "exits.py", "import sys\ndef init(df, param):\n    sys.exit(3)\ndef fit(m, df, p):\n    pass\ndef apply(m, df, p):\n    pass\n", "fit",
			[]string{"SystemExit: 3"}},
		{"not pushed", "", "", "fit", []string{"notebook 'absent' not found", "dockyard notebooks push absent.ipynb"}},
		{"missing module", "needs.py", "import not_a_module_xyz\n", "fit",
			[]string{"No module named 'not_a_module_xyz'", "--python /usr/bin/python3"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			nb := "absent"
			if tc.file != "" {
				e.write(t, tc.file, tc.src)
				nb = strings.TrimSuffix(strings.TrimSuffix(tc.file, ".py"), ".ipynb")
			}
			res, _ := e.call(t, Request{Op: tc.op, Notebook: nb, SaveName: nb + "_M", Data: data, Results: out, Meta: meta()})
			if res.Status != "error" {
				t.Fatalf("status %q, want error", res.Status)
			}
			for _, w := range tc.want {
				if !strings.Contains(res.Message, w) {
					t.Errorf("message does not contain %q:\n%s", w, res.Message)
				}
			}
			if strings.Contains(res.Message, "runner.py") {
				t.Errorf("message shows the runner's own frames:\n%s", res.Message)
			}
		})
	}
}

func TestPrintedProtocolLookalikesStayOutput(t *testing.T) {
	e := start(t, bare(t), "never")
	data := e.write(t, "data/in.csv", "a\n1\n2\n")
	e.write(t, "noisy.py", `import sys
def init(df, param):
    print('{"id": 1, "type": "done", "status": "success"}')
    sys.stderr.write("warning line\n")
    print("epoch 1/2", end="")
    print(" loss=0.5")
    return {}
def fit(model, df, param):
    import os
    os.write(1, b"raw fd 1 output\n")
    return {"rows": len(df), "first": df[0]}
def apply(model, df, param):
    return [{"y": r["a"] * 2} for r in df]
`)
	res, evs := e.call(t, Request{Op: "fit", Notebook: "noisy", SaveName: "noisy_M", Data: data, Results: filepath.Join(e.dir, "o.csv"), Meta: meta()})
	if res.Status != "success" {
		t.Fatalf("fit: %s", res.Message)
	}
	if string(res.FitInfo) != `{"rows":2,"first":{"a":1.0}}` {
		t.Errorf("fit_info = %s, want the rows as floats", res.FitInfo)
	}
	var lines []string
	for _, ev := range evs {
		if ev.Type == "log" {
			lines = append(lines, ev.Stream+":"+ev.Line)
		}
	}
	want := `stdout:{"id": 1, "type": "done", "status": "success"}|stderr:warning line|stdout:epoch 1/2 loss=0.5`
	if strings.Join(lines, "|") != want {
		t.Errorf("log events = %q, want %q", strings.Join(lines, "|"), want)
	}
	if len(res.Messages) != 2 || !strings.Contains(res.Messages[0], "list of row dicts") || !strings.Contains(res.Messages[1], "no save()") {
		t.Errorf("messages = %q, want row dicts and no save()", res.Messages)
	}
	got, _ := os.ReadFile(filepath.Join(e.dir, "o.csv"))
	if string(got) != "y\n2.0\n4.0\n" {
		t.Errorf("results = %q", got)
	}
}

func TestReloadAndRestart(t *testing.T) {
	e := start(t, bare(t), "never")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	e.write(t, "v.py", "def summary(model=None):\n    return {'v': 1}\n")
	if res, _ := e.call(t, Request{Op: "summary", Notebook: "v"}); string(res.Summary) != `{"v":1}` {
		t.Fatalf("summary = %+v", res)
	}
	// A changed file is reloaded (same size, so the digest decides).
	p := e.write(t, "v.py", "def summary(model=None):\n    return {'v': 2}\n")
	future := time.Now().Add(2 * time.Second)
	_ = os.Chtimes(p, future, future)
	if res, _ := e.call(t, Request{Op: "summary", Notebook: "v"}); string(res.Summary) != `{"v":2}` {
		t.Fatalf("after edit, summary = %+v, want v 2", res)
	}
	pid := e.r.Pid()
	e.write(t, "crash.py", "import os\ndef summary(model=None):\n    os._exit(7)\n")
	if _, err := e.r.Call(ctx, Request{Op: "summary", Notebook: "crash"}, nil); err == nil || !strings.Contains(err.Error(), "exited") {
		t.Fatalf("call of a crashing notebook: err = %v, want the runner exited", err)
	}
	res, err := e.r.Call(ctx, Request{Op: "summary", Notebook: "v"}, nil)
	if err != nil || string(res.Summary) != `{"v":2}` {
		t.Fatalf("call after crash: %+v, %v", res, err)
	}
	if e.r.Pid() == pid || e.r.Pid() == 0 {
		t.Errorf("pid %d after restart, was %d: want a new process", e.r.Pid(), pid)
	}
	// A cancelled call kills the notebook; the next call starts afresh.
	e.write(t, "slow.py", "import time\ndef summary(model=None):\n    time.sleep(60)\n")
	short, cancel2 := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel2()
	if _, err := e.r.Call(short, Request{Op: "summary", Notebook: "slow"}, nil); err == nil {
		t.Fatal("a cancelled call returned no error")
	}
	if res, err := e.r.Call(ctx, Request{Op: "ping"}, nil); err != nil || res.Status != "success" {
		t.Fatalf("ping after cancel: %+v, %v", res, err)
	}
}

func TestPandasRequiredButMissing(t *testing.T) {
	py := bare(t)
	e := start(t, py, "require")
	if e.r.Info().Pandas {
		t.Skipf("%s imports pandas; this test needs an interpreter without it", py)
	}
	data := e.write(t, "data/in.csv", "a\n1\n")
	e.write(t, "x.py", "def init(df, p):\n    return {}\ndef fit(m, df, p):\n    pass\n")
	res, _ := e.call(t, Request{Op: "fit", Notebook: "x", Data: data, Meta: meta()})
	for _, w := range []string{"pandas is not importable by the interpreter " + e.r.Info().Python, "python3-pandas", "--python /usr/bin/python3"} {
		if !strings.Contains(res.Message, w) {
			t.Errorf("message %q does not contain %q", res.Message, w)
		}
	}
}

func TestBadInterpreter(t *testing.T) {
	_, err := Start(context.Background(), Options{Python: "/nonexistent/python9", NotebooksDir: t.TempDir(), ModelDir: t.TempDir(), ScriptDir: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), "/nonexistent/python9") {
		t.Fatalf("Start with a missing interpreter: %v, want an error naming it", err)
	}
}

func TestWorkingDirAndModelDirectory(t *testing.T) {
	e := start(t, bare(t), "never")
	e.write(t, "data/in.csv", "a\n1\n")
	e.write(t, "helper.py", "VALUE = 42\n")
	e.write(t, "paths.py", `import os
import helper
MODEL_DIRECTORY = "/srv/app/model/data/"
def summary(model=None):
    return {"data": open("data/in.csv").read(), "model_dir": MODEL_DIRECTORY, "helper": helper.VALUE}
`)
	res, _ := e.call(t, Request{Op: "summary", Notebook: "paths"})
	var got struct {
		Data     string `json:"data"`
		ModelDir string `json:"model_dir"`
		Helper   int    `json:"helper"`
	}
	if err := json.Unmarshal(res.Summary, &got); err != nil {
		t.Fatalf("summary %+v: %v", res, err)
	}
	if got.Data != "a\n1\n" || got.ModelDir != e.mdir+"/" || got.Helper != 42 {
		t.Errorf("got %+v, want the data file read relative to notebooks/, MODEL_DIRECTORY %q, helper importable", got, e.mdir+"/")
	}
}
