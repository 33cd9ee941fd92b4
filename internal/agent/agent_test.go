package agent_test

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/dockyard/dockyard/internal/agent"
	"github.com/dockyard/dockyard/internal/agent/agenttest"
)

var (
	pyOnce sync.Once
	pyBare string
)

// bare is the first python3 on PATH, resolved to its real path (so that a
// pyenv shim is not in the way); the test skips without one.
func bare(t *testing.T) string {
	t.Helper()
	pyOnce.Do(func() {
		out, err := exec.Command("python3", "-c", "import sys; print(sys.executable)").Output()
		if err == nil {
			pyBare = strings.TrimSpace(string(out))
		}
	})
	if pyBare == "" {
		t.Skip("python3 is not on PATH; the agent's notebook runner needs it")
	}
	return pyBare
}

// pandasPython is Debian's /usr/bin/python3 when it imports pandas.
func pandasPython(t *testing.T) string {
	t.Helper()
	if err := exec.Command("/usr/bin/python3", "-c", "import pandas, numpy").Run(); err != nil {
		t.Skipf("/usr/bin/python3 cannot import pandas and numpy (%v); install python3-pandas python3-numpy", err)
	}
	return "/usr/bin/python3"
}

// The test binary doubles as the agent for the benchmarks, which measure
// the agent's memory in a process of its own.
func TestMain(m *testing.M) {
	agenttest.Main(m)
}

func readNotebook(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "examples", "notebooks", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func push(t *testing.T, a *agenttest.Agent, name string, content []byte) {
	t.Helper()
	resp := a.Do(t, "PUT", "/v1/notebooks/"+name, content, nil)
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("PUT notebook %s: %d %s", name, resp.StatusCode, b)
	}
}

type answer struct {
	Status   string            `json:"status"`
	Message  string            `json:"message"`
	Results  string            `json:"results"`
	Summary  json.RawMessage   `json:"summary"`
	Messages []string          `json:"messages"`
	Rows     int               `json:"rows"`
	Files    []agent.FileInfo  `json:"files"`
	FitInfo  map[string]any    `json:"fit_info"`
	Extra    map[string]string `json:"-"`
}

func post(t *testing.T, a *agenttest.Agent, path string, v any) (int, answer) {
	t.Helper()
	b, _ := json.Marshal(v)
	resp := a.Do(t, "POST", path, b, map[string]string{"Content-Type": "application/json"})
	defer resp.Body.Close()
	var ans answer
	body, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(body, &ans); err != nil {
		t.Fatalf("POST %s: answer is not JSON: %q", path, body)
	}
	return resp.StatusCode, ans
}

func meta(algo, model string, params map[string]string) map[string]any {
	p := map[string]any{"algo": algo}
	for k, v := range params {
		p[k] = v
	}
	return map[string]any{
		"options":           map[string]any{"params": p, "model_name": model, "algo_name": "MLTKContainer", "feature_variables": []string{"x1", "x2"}, "target_variable": []string{"y"}},
		"feature_variables": []string{"x1", "x2"},
		"target_variables":  []string{"y"},
	}
}

const linearCSV = "x1,x2,y\n1,2,8\n2,1,6\n3,5,19\n4,3,14\n5,7,27\n6,1,10\n"

func TestAuth(t *testing.T) {
	a := agenttest.Start(t, agenttest.Options{Python: bare(t)})
	for _, tc := range []struct {
		method, path, auth string
		want               int
	}{
		{"GET", "/healthz", "", 200},
		{"POST", "/fit", "", 401},
		{"POST", "/fit", "Bearer wrong", 401},
		{"POST", "/fit", "Basic " + a.Token, 401},
		{"GET", "/summary", "", 401},
		{"POST", "/v1/fit/stream", "", 401},
		{"GET", "/v1/model/files", "", 401},
		{"PUT", "/v1/notebooks/x.py", "", 401},
		{"GET", "/no/such/path", "", 401},
		{"GET", "/no/such/path", "Bearer " + a.Token, 404},
		{"GET", "/v1/model/files", "Bearer " + a.Token, 200},
	} {
		req, _ := http.NewRequest(tc.method, a.URL+tc.path, strings.NewReader("{}"))
		if tc.auth != "" {
			req.Header.Set("Authorization", tc.auth)
		}
		resp, err := a.Client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("%s %s with %q: %d %s, want %d", tc.method, tc.path, tc.auth, resp.StatusCode, body, tc.want)
		}
		if tc.want == 401 && !strings.Contains(string(body), `"status":"error"`) {
			t.Errorf("%s %s: 401 body %q is not a JSON error", tc.method, tc.path, body)
		}
	}
}

func TestFitApplySummaryLinearRegression(t *testing.T) {
	for _, tc := range []struct {
		name   string
		python func(*testing.T) string
	}{{"bare python", bare}, {"pandas", pandasPython}} {
		t.Run(tc.name, func(t *testing.T) {
			a := agenttest.Start(t, agenttest.Options{Python: tc.python(t)})
			push(t, a, "linear_regression.ipynb", readNotebook(t, "linear_regression.ipynb"))
			code, ans := post(t, a, "/fit", map[string]any{"data": linearCSV, "meta": meta("linear_regression", "M", nil)})
			if code != 200 || ans.Status != "success" {
				t.Fatalf("/fit: %d %+v", code, ans)
			}
			if len(ans.Files) != 1 || ans.Files[0].Path != "linear_regression_M.json" || len(ans.Files[0].SHA256) != 64 {
				t.Fatalf("/fit files = %+v, want linear_regression_M.json", ans.Files)
			}
			saved, err := os.ReadFile(filepath.Join(a.Root, "app", "model", "data", "linear_regression_M.json"))
			if err != nil || int64(len(saved)) != ans.Files[0].Size {
				t.Fatalf("saved file: %v (size %d, manifest %d)", err, len(saved), ans.Files[0].Size)
			}
			if lines := strings.Split(strings.TrimSpace(ans.Results), "\n"); len(lines) != 7 || lines[0] != "prediction" {
				t.Errorf("/fit results = %q, want a prediction per row", ans.Results)
			}
			if ans.FitInfo["rows"] != float64(6) {
				t.Errorf("fit_info = %v", ans.FitInfo)
			}
			code, ans = post(t, a, "/apply", map[string]any{"data": "x1,x2\n10,10\n0,0\n", "meta": meta("linear_regression", "M", nil)})
			if code != 200 || ans.Status != "success" {
				t.Fatalf("/apply: %d %+v", code, ans)
			}
			lines := strings.Split(strings.TrimSpace(ans.Results), "\n")
			if len(lines) != 3 || !strings.HasPrefix(lines[1], "41") && !strings.HasPrefix(lines[1], "40.99999") || !strings.HasPrefix(lines[2], "1") && !strings.HasPrefix(lines[2], "0.99999") {
				t.Errorf("/apply results = %q, want 41 and 1", ans.Results)
			}
			resp := a.Do(t, "GET", "/summary?algo=linear_regression&model_name=M", nil, nil)
			var sum answer
			_ = json.NewDecoder(resp.Body).Decode(&sum)
			resp.Body.Close()
			if sum.Status != "success" || !strings.Contains(string(sum.Summary), `"r2": 1`) && !strings.Contains(string(sum.Summary), `"r2":1`) {
				t.Errorf("/summary = %+v, want r2 1", sum)
			}
		})
	}
}

func TestNotebookErrors(t *testing.T) {
	a := agenttest.Start(t, agenttest.Options{Python: bare(t)})
	push(t, a, "raises.py", []byte("def init(df, param):\n    return {}\n\ndef fit(model, df, param):\n    raise RuntimeError('bad data in column x1')\n\ndef apply(m, df, p):\n    return df\n"))
	push(t, a, "nofit.ipynb", []byte(`{"cells":[{"cell_type":"code","metadata":{"name":"mltkc_init"},"source":["def init(df, param):\n","    return {}\n"]}],"metadata":{},"nbformat":4,"nbformat_minor":5}`))
	for _, tc := range []struct {
		algo string
		want []string
	}{
		{"raises", []string{"Traceback (most recent call last)", "raises.py\", line 5, in fit", "RuntimeError: bad data in column x1"}},
		{"nofit", []string{"notebook 'nofit' (nofit.ipynb) defines no function fit()"}},
		{"absent", []string{"notebook 'absent' not found"}},
	} {
		code, ans := post(t, a, "/fit", map[string]any{"data": linearCSV, "meta": meta(tc.algo, "M", nil)})
		if code != 200 || ans.Status != "error" {
			t.Errorf("%s: %d %q, want 200 with status error", tc.algo, code, ans.Status)
		}
		for _, w := range tc.want {
			if !strings.Contains(ans.Message, w) {
				t.Errorf("%s: message does not contain %q:\n%s", tc.algo, w, ans.Message)
			}
		}
	}
}

func TestBadRequests(t *testing.T) {
	a := agenttest.Start(t, agenttest.Options{Python: bare(t), MaxBodyBytes: 4096})
	for _, tc := range []struct {
		path string
		body string
		want int
		msg  string
	}{
		{"/fit", "not json", 400, "not the JSON"},
		{"/fit", `{"data": "a\n1\n"}`, 400, "no meta"},
		{"/fit", `{"data": "a\n1\n", "meta": {"options": {"params": {}}}}`, 400, "algo (the notebook) is missing"},
		{"/fit", `{"data": "a\n1\n", "meta": {"options": {"params": {"algo": "../x"}, "model_name": "M"}}}`, 400, "letters, digits"},
		{"/fit", `{"data": "a\n1\n", "meta": {"options": {"params": {"algo": "x"}}}}`, 400, "model_name is missing"},
		{"/fit", `{"data": "` + strings.Repeat("1\\n", 3000) + `", "meta": {}}`, 413, "larger than the agent's limit"},
		{"/v1/fit/stream", "{bad header\n", 400, "not JSON"},
		{"/v1/fit/stream", `{"meta": {"options": {"params": {"algo": "x"}, "model_name": "M"}}, "format": "parquet"}` + "\n", 400, "not supported"},
	} {
		resp := a.Do(t, "POST", tc.path, []byte(tc.body), nil)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.want || !strings.Contains(string(body), tc.msg) {
			t.Errorf("POST %s %.40q: %d %s, want %d with %q", tc.path, tc.body, resp.StatusCode, body, tc.want, tc.msg)
		}
	}
}

func TestStage(t *testing.T) {
	a := agenttest.Start(t, agenttest.Options{Python: bare(t)})
	m := meta("linear_regression", "Staged", map[string]string{"mode": "stage"})
	code, ans := post(t, a, "/fit", map[string]any{"data": linearCSV, "meta": m})
	if code != 200 || ans.Status != "staged" {
		t.Fatalf("/fit mode=stage: %d %+v", code, ans)
	}
	data, err := os.ReadFile(filepath.Join(a.Root, "notebooks", "data", "Staged.csv"))
	if err != nil || string(data) != linearCSV {
		t.Errorf("staged data = %q, %v", data, err)
	}
	var gotMeta map[string]any
	b, err := os.ReadFile(filepath.Join(a.Root, "notebooks", "data", "Staged.json"))
	if err != nil || json.Unmarshal(b, &gotMeta) != nil || gotMeta["options"].(map[string]any)["params"].(map[string]any)["mode"] != "stage" {
		t.Errorf("staged meta = %s, %v", b, err)
	}
	if entries, _ := os.ReadDir(filepath.Join(a.Root, "app", "model", "data")); len(entries) != 0 {
		t.Errorf("stage ran the notebook: model files %v", entries)
	}
}
