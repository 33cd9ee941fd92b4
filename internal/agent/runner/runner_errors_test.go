package runner

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
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

// A summary or fit_info that json.dumps refuses (keys it cannot carry, a
// reference cycle) is converted; it must not end the warm runner.
func TestUnserialisableAnswersKeepTheRunner(t *testing.T) {
	for _, tc := range []struct {
		name, src, want string
		pandas          bool
	}{
		{"tuple keys", "def summary(model=None):\n    return {('a', 'b'): 1, 2: [3, float('nan')]}\n", `{"('a', 'b')":1,"2":[3,null]}`, false},
		{"cycle", "def summary(model=None):\n    d = {'x': 1}\n    d['self'] = d\n    return d\n", `{"x":1,"self":"<circular reference>"}`, false},
		{"object keys", "class K:\n    def __repr__(self):\n        return 'K'\ndef summary(model=None):\n    return {K(): {None: True, 1.5: 'f'}}\n", `{"K":{"null":true,"1.5":"f"}}`, false},
		{"numpy keys", "import numpy as np\ndef summary(model=None):\n    return {np.int64(1): np.float64(0.5), np.int64(2): np.array([1, 2])}\n", `{"1":0.5,"2":[1,2]}`, true},
		{"timestamp index", "import pandas as pd\ndef summary(model=None):\n    return pd.DataFrame({'v': [1]}, index=pd.to_datetime(['2024-01-02']))\n", `{"v":{"2024-01-02 00:00:00":1}}`, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			py := bare(t)
			if tc.pandas {
				py = withPandas(t)
			}
			e := start(t, py, "auto")
			e.write(t, "s.py", tc.src)
			pid := e.r.Pid()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			res, err := e.r.Call(ctx, Request{Op: "summary", Notebook: "s"}, nil)
			if err != nil || res.Status != "success" || string(res.Summary) != tc.want {
				t.Fatalf("summary = %+v, %v; want success with %s", res, err, tc.want)
			}
			if e.r.Pid() != pid {
				t.Errorf("runner pid %d after the call, was %d: the runner died", e.r.Pid(), pid)
			}
			// fit_info goes the same way.
			data := e.write(t, "data/in.csv", "a\n1\n")
			e.write(t, "f.py", strings.Replace(tc.src, "def summary(model=None):", "def init(df, p):\n    return {}\ndef fit(m, df, p):", 1))
			res, err = e.r.Call(ctx, Request{Op: "fit", Notebook: "f", Data: data, Meta: meta()}, nil)
			if err != nil || res.Status != "success" || string(res.FitInfo) != tc.want {
				t.Errorf("fit = %+v, %v; want success with fit_info %s", res, err, tc.want)
			}
		})
	}
}

// Output without line breaks is sent cut short once it is MAX_LOG_LINE
// long and the rest of the line dropped: the runner's memory does not
// grow with it.
func TestLongOutputLineIsBounded(t *testing.T) {
	e := start(t, bare(t), "never")
	e.write(t, "chatty.py", `import resource, sys
def summary(model=None):
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    chunk = "x" * (1 << 20)
    for _ in range(128):
        sys.stdout.write(chunk)
    del chunk
    grew = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    print(" end")
    print("next line")
    return {"grew_kib": grew}
`)
	res, evs := e.call(t, Request{Op: "summary", Notebook: "chatty"})
	if res.Status != "success" {
		t.Fatalf("summary: %+v", res)
	}
	var got struct {
		GrewKiB int `json:"grew_kib"`
	}
	if err := json.Unmarshal(res.Summary, &got); err != nil {
		t.Fatal(err)
	}
	if got.GrewKiB > 32<<10 {
		t.Errorf("the runner grew by %d KiB while the notebook wrote 128 MiB without a line break; want it bounded", got.GrewKiB)
	}
	var lines []string
	for _, ev := range evs {
		if ev.Type == "log" {
			lines = append(lines, ev.Line)
		}
	}
	want := []string{strings.Repeat("x", 8192) + "...(truncated)", "next line"}
	if len(lines) != len(want) || lines[0] != want[0] || lines[1] != want[1] {
		short := make([]string, len(lines))
		for i, l := range lines {
			short[i] = fmt.Sprintf("%.40q (%d bytes)", l, len(l))
		}
		t.Errorf("log lines = %v; want the long line cut at 8192 bytes, then %q", short, want[1])
	}
}

// Rows that are not clean CSV: a byte order mark, ragged rows, bytes that
// are not UTF-8, blank input. The notebook gets the right column names, or
// the call fails with a message that says what is wrong, not a traceback
// of the CSV reader.
func TestAwkwardCSV(t *testing.T) {
	envs := map[bool]*env{} // one runner with pandas, one without, for all cases
	parent := t
	for _, tc := range []struct {
		name, csv string
		pandas    bool
		want      string // fit_info (the columns) on success, or a part of the error
		bad       bool
	}{
		{"bom plain", "\ufeffa,b\n1,2\n", false, `["a","b"]`, false},
		{"bom pandas", "\ufeffa,b\n1,2\n", true, `["a","b"]`, false},
		{"header only plain", "a,b\n", false, `[]`, false},
		{"header only pandas", "a,b\n", true, `["a","b"]`, false},
		{"blank pandas", "\n\n", true, `[]`, false},
		{"quoted plain", "a,b\n\"x,y\",\"line\nbreak\"\n", false, `["a","b"]`, false},
		{"ragged plain", "a,b\n1,2\n3,4,5\n", false, "line 3 has 3 fields, more than the 2 columns of the header row", true},
		{"ragged pandas", "a,b\n1,2\n3,4,5\n", true, "Expected 2 fields in line 3, saw 3", true},
		{"latin-1 plain", "a,b\n\xe9t\xe9,2\n", false, "not UTF-8 text", true},
		{"latin-1 pandas", "a,b\n\xe9t\xe9,2\n", true, "not UTF-8 text", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := envs[tc.pandas]
			if e == nil {
				py, mode := bare(t), "never"
				if tc.pandas {
					py, mode = withPandas(t), "require"
				}
				e = start(parent, py, mode)
				envs[tc.pandas] = e
			}
			data := e.write(t, "data/in.csv", tc.csv)
			e.write(t, "cols.py", "def init(df, p):\n    return {}\n"+
				"def fit(m, df, p):\n    return list(df.columns) if hasattr(df, 'columns') else (list(df[0]) if df else [])\n")
			res, _ := e.call(t, Request{Op: "fit", Notebook: "cols", Data: data, Meta: meta()})
			if tc.bad {
				if res.Status != "error" || !strings.Contains(res.Message, tc.want) || strings.Contains(res.Message, "Traceback") {
					t.Errorf("fit = %q %q; want an error with %q and no traceback", res.Status, res.Message, tc.want)
				}
				return
			}
			if res.Status != "success" || string(res.FitInfo) != tc.want {
				t.Errorf("fit = %q %q, fit_info %s; want the columns %s", res.Status, res.Message, res.FitInfo, tc.want)
			}
		})
	}
}

// A runner that dies while a process it forked lives on (a worker pool's
// fork, an OOM kill of the runner alone) is reported as exited, and the
// forked process is ended with it: the call must not wait on the pipes
// that process inherited.
func TestRunnerDeathWithForkedChild(t *testing.T) {
	e := start(t, bare(t), "never")
	e.write(t, "forks.py", `import os, sys, time
def summary(model=None):
    pid = os.fork()
    if pid == 0:
        time.sleep(3600)
        os._exit(0)
    print("child", pid)
    sys.stdout.flush()
    os._exit(9)
`)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	child := 0
	_, err := e.r.Call(ctx, Request{Op: "summary", Notebook: "forks"}, func(ev Event) {
		if n, ok := strings.CutPrefix(ev.Line, "child "); ok {
			child, _ = strconv.Atoi(n)
		}
	})
	if err == nil || !strings.Contains(err.Error(), "exited") {
		t.Fatalf("call of a notebook whose runner died: %v; want the runner exited", err)
	}
	if child == 0 {
		t.Fatal("the notebook did not report its child")
	}
	for i := 0; i < 250 && processLives(child); i++ {
		time.Sleep(20 * time.Millisecond)
	}
	if processLives(child) {
		t.Errorf("the notebook's forked process %d outlived its runner", child)
	}
	if res, err := e.r.Call(ctx, Request{Op: "ping"}, nil); err != nil || res.Status != "success" {
		t.Errorf("ping after the crash: %+v, %v", res, err)
	}
}

// processLives reports whether pid runs (not gone, not a zombie).
func processLives(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	i := strings.LastIndexByte(string(b), ')')
	return i < 0 || len(b) <= i+2 || (b[i+2] != 'Z' && b[i+2] != 'X')
}

// A call whose caller has already given up (it waited behind another call
// and its client left) does not run, and does not cost the warm runner.
func TestCancelledCallKeepsTheRunner(t *testing.T) {
	e := start(t, bare(t), "never")
	e.write(t, "s.py", "def summary(model=None):\n    return 1\n")
	pid := e.r.Pid()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := e.r.Call(ctx, Request{Op: "summary", Notebook: "s"}, nil); err == nil || !strings.Contains(err.Error(), "canceled") {
		t.Errorf("call with a cancelled ctx: %v, want it cancelled", err)
	}
	if e.r.Pid() != pid {
		t.Errorf("runner pid %d after a cancelled call, was %d: the warm runner was killed", e.r.Pid(), pid)
	}
}
