package runner

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLargeCSVMatchesReadCSV checks that the bounded-memory reader of large
// files gives exactly what pandas.read_csv gives, including when column
// types change part-way and when the row hint is wrong.
func TestLargeCSVMatchesReadCSV(t *testing.T) {
	e := start(t, withPandas(t), "require")
	e.write(t, "cmp.py", `import pandas as pd
def init(df, param):
    return None
def fit(model, df, param):
    ref = pd.read_csv(param["path"])
    return {"equal": bool(df.equals(ref)), "n": len(df), "dtypes": [str(d) for d in df.dtypes],
            "ref_dtypes": [str(d) for d in ref.dtypes]}
`)
	const n = 400_000 // about 10 MB: over the read-at-once threshold
	for _, tc := range []struct {
		name  string
		hint  int64
		row   func(i int) string
		types string
		msg   string
	}{
		{"numeric with gaps", n, func(i int) string {
			if i%1000 == 7 {
				return fmt.Sprintf("%d,,%d.25,%d", i, i%13, i*3)
			}
			return fmt.Sprintf("%d,%d.5,%d.25,%d", i, i%97, i%13, i*3)
		}, `["int64","float64","float64","int64"]`, "400 of 400000 rows have missing values"},
		{"int becomes float late", 0, func(i int) string {
			if i == 300_000 {
				return "1.5,2,3,4"
			}
			return fmt.Sprintf("%d,%d,%d,%d", i, i, i, i)
		}, `["float64","int64","int64","int64"]`, ""},
		{"number becomes text late", 1000, func(i int) string {
			if i == 250_000 {
				return "x,2,3,4"
			}
			return fmt.Sprintf("%d,%d,%d,%d", i, i, i, i)
		}, `["object","int64","int64","int64"]`, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(e.nb, "data", "big.csv")
			_ = os.MkdirAll(filepath.Dir(p), 0o755)
			f, err := os.Create(p)
			if err != nil {
				t.Fatal(err)
			}
			w := bufio.NewWriter(f)
			w.WriteString("a,b,c,d\n")
			for i := 0; i < n; i++ {
				w.WriteString(tc.row(i))
				w.WriteByte('\n')
			}
			w.Flush()
			f.Close()
			meta, _ := json.Marshal(map[string]string{"path": p})
			res, _ := e.call(t, Request{Op: "fit", Notebook: "cmp", Data: p, Rows: tc.hint, Meta: meta})
			if res.Status != "success" {
				t.Fatalf("fit: %s", res.Message)
			}
			if msgs := strings.Join(res.Messages, "|"); tc.msg != "" && !strings.Contains(msgs, tc.msg) || tc.msg == "" && strings.Contains(msgs, "missing values") {
				t.Errorf("messages = %q, want %q", msgs, tc.msg)
			}
			var info struct {
				Equal     bool            `json:"equal"`
				N         int             `json:"n"`
				Dtypes    json.RawMessage `json:"dtypes"`
				RefDtypes json.RawMessage `json:"ref_dtypes"`
			}
			_ = json.Unmarshal(res.FitInfo, &info)
			if !info.Equal || info.N != n || string(info.Dtypes) != tc.types {
				t.Errorf("bounded read: equal=%v n=%d dtypes=%s (read_csv: %s), want equal, %d rows, %s", info.Equal, info.N, info.Dtypes, info.RefDtypes, n, tc.types)
			}
		})
	}
}

// TestFastWriterMatchesToCSV checks that numeric results are written as
// DataFrame.to_csv(index=False) writes them.
func TestFastWriterMatchesToCSV(t *testing.T) {
	e := start(t, withPandas(t), "require")
	ref := filepath.Join(e.dir, "ref.csv")
	e.write(t, "w.py", `import numpy as np, pandas as pd
def init(df, param):
    return None
def fit(model, df, param):
    return None
def apply(model, df, param):
    out = pd.DataFrame({"i": np.arange(200000) - 5, "f": np.linspace(-1e-7, 3e9, 200000),
                        "b": np.arange(200000) % 3 == 0, "n": [np.nan if k % 7 == 0 else k / 3 for k in range(200000)]})
    out.to_csv(param["ref"], index=False)
    return out
`)
	data := e.write(t, "data/one.csv", "a\n1\n")
	meta, _ := json.Marshal(map[string]string{"ref": ref})
	out := filepath.Join(e.dir, "out.csv")
	res, _ := e.call(t, Request{Op: "fit", Notebook: "w", Data: data, Results: out, Meta: meta})
	if res.Status != "success" || res.ResultRows != 200000 {
		t.Fatalf("fit: %+v", res)
	}
	got, _ := os.ReadFile(out)
	want, _ := os.ReadFile(ref)
	if string(got) != string(want) {
		t.Errorf("results differ from to_csv (%d vs %d bytes)", len(got), len(want))
	}
}
