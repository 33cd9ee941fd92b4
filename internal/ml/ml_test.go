package ml

import (
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/dockyard/dockyard/internal/search"
	"github.com/dockyard/dockyard/internal/spl"
)

func row(kv ...string) *search.Row {
	r := search.NewRow(len(kv) / 2)
	for i := 0; i+1 < len(kv); i += 2 {
		v := search.NullValue
		if kv[i+1] != "" {
			v = search.StrValue(kv[i+1])
		}
		r.Set(kv[i], v)
	}
	return r
}

func TestSelectColumns(t *testing.T) {
	rows := []*search.Row{row("_time", "1", "y", "1", "sepal_a", "2", "sepal_b", "3", "petal", "4"), row("late", "5")}
	for _, c := range []struct {
		name     string
		target   string
		patterns []string
		want     []string
		err      string
	}{
		{name: "star skips target and internal fields", target: "y", patterns: []string{"*"}, want: []string{"sepal_a", "sepal_b", "petal", "late"}},
		{name: "prefix wildcard", target: "y", patterns: []string{"sepal_*"}, want: []string{"sepal_a", "sepal_b"}},
		{name: "named and wildcard without duplicates", patterns: []string{"petal", "*al*"}, want: []string{"petal", "sepal_a", "sepal_b"}},
		{name: "missing target", target: "nope", patterns: []string{"*"}, err: `target field "nope"`},
		{name: "missing feature", target: "y", patterns: []string{"nope"}, err: `feature field "nope"`},
		{name: "pattern matching nothing", target: "y", patterns: []string{"zz*"}, err: `"zz*" matches no field`},
		{name: "only the target", target: "y", patterns: []string{"y"}, err: "no feature fields"},
		{name: "star skips every target", target: "y,petal", patterns: []string{"*"}, want: []string{"sepal_a", "sepal_b", "late"}},
		{name: "second target missing", target: "y,nope", patterns: []string{"*"}, err: `target field "nope"`},
		{name: "target twice", target: "y,y", patterns: []string{"*"}, err: "named twice"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := selectColumns(splitTargets(c.target), c.patterns, rows)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("err = %v, want %q", err, c.err)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got.Features, c.want) || joinTargets(got.Targets) != c.target {
				t.Fatalf("got %+v, %v; want features %v", got, err, c.want)
			}
		})
	}
}

func TestResultNames(t *testing.T) {
	for _, c := range []struct {
		header     []string
		target, as string
		want       []string
	}{
		{[]string{"prediction", "proba"}, "y", "", []string{"predicted_y", "proba"}},
		{[]string{"prediction", "proba"}, "y", "p", []string{"p", "proba"}},
		{[]string{"cluster", "dist"}, "", "", []string{"predicted_cluster", "predicted_dist"}},
		{[]string{"cluster", "dist"}, "", "c", []string{"c", "predicted_dist"}},
		{[]string{"a", "b", "proba"}, "y1,y2", "", []string{"predicted_y1", "predicted_y2", "proba"}},
		{[]string{"a", "b", "proba"}, "y1,y2", "p", []string{"p", "predicted_y2", "proba"}},
		{[]string{"a"}, "y1,y2", "", []string{"predicted_y1"}},
	} {
		if got := resultNames(c.header, splitTargets(c.target), c.as); !reflect.DeepEqual(got, c.want) {
			t.Errorf("resultNames(%v, %q, %q) = %v, want %v", c.header, c.target, c.as, got, c.want)
		}
	}
}

func TestBuildMetaHasTheSeedShape(t *testing.T) {
	b, err := buildMeta(metaInput{
		Algo: "nb", ModelName: "M", Params: []spl.Option{{Key: "epochs", Value: "10"}, {Key: "rate", Value: "0.5"}},
		Args: []string{"y", "x*"}, Columns: columns{Targets: []string{"y"}, Features: []string{"x1", "x2"}},
		Limits: search.Limits{MaxRows: 100, MaxTime: time.Minute},
	})
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Options struct {
			Params           map[string]any    `json:"params"`
			Args             []string          `json:"args"`
			FeatureVariables []string          `json:"feature_variables"`
			TargetVariable   []string          `json:"target_variable"`
			ModelName        string            `json:"model_name"`
			AlgoName         string            `json:"algo_name"`
			Limits           map[string]string `json:"mlspl_limits"`
		} `json:"options"`
		FeatureVariables []string `json:"feature_variables"`
		TargetVariables  []string `json:"target_variables"`
	}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	o := m.Options
	want := map[string]any{"algo": "nb", "epochs": "10", "rate": "0.5"}
	if !reflect.DeepEqual(o.Params, want) {
		t.Errorf("params = %#v, want every value a string: %#v", o.Params, want)
	}
	if o.ModelName != "M" || o.AlgoName != "MLTKContainer" || !reflect.DeepEqual(o.Args, []string{"y", "x*"}) ||
		!reflect.DeepEqual(o.FeatureVariables, []string{"x1", "x2"}) || !reflect.DeepEqual(o.TargetVariable, []string{"y"}) ||
		!reflect.DeepEqual(m.FeatureVariables, []string{"x1", "x2"}) || !reflect.DeepEqual(m.TargetVariables, []string{"y"}) ||
		o.Limits["max_inputs"] != "100" || o.Limits["max_fit_time"] != "60" {
		t.Errorf("meta = %s", b)
	}
}

// TestFeedAndMerge sends rows with a missing value, then merges results:
// no row is dropped, the unsent one gets an empty prediction, and field
// kinds survive the spool.
func TestFeedAndMerge(t *testing.T) {
	dir := t.TempDir()
	sp, err := newSpool(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer sp.remove()
	in := []*search.Row{row("x", "1", "y", "3", "id", "a"), row("x", "", "y", "4", "id", "b"), row("x", "2", "y", "5", "id", "c")}
	in[0].Set("n", search.NumValue(1.5))
	in[2].Set("mv", search.MultiValue([]string{"p", "q"}))
	in[1].Set("score", search.StrValue("stale")) // left by an earlier apply
	var csv strings.Builder
	st, err := feed(&csv, search.FromRows(in), []string{"y", "x"}, sp)
	if err != nil {
		t.Fatal(err)
	}
	if csv.String() != "y,x\n3,1\n5,2\n" {
		t.Errorf("CSV sent = %q", csv.String())
	}
	if st.Total != 3 || st.Sent != 2 || st.Missing != 1 || st.ByField["x"] != 1 || !reflect.DeepEqual(st.MissingRows, []int64{2}) ||
		!strings.HasPrefix(st.Fingerprint, "sha256:") {
		t.Errorf("stats = %+v", st)
	}
	msg := missingMessage("fit", st, []string{"y", "x"})
	if !strings.Contains(msg, "1 of 3 rows had missing values (x: 1; rows 2)") {
		t.Errorf("message = %q", msg)
	}
	results := filepath.Join(dir, "r.csv")
	os.WriteFile(results, []byte("prediction,score\n3.1,0.9\n"), 0o600) // one result short
	var sent, got int64
	m := &merged{sp: sp, results: results, targets: []string{"y"}, onEnd: func(s, g int64) { sent, got = s, g }}
	var out []*search.Row
	for r, err := range m.rows {
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	if len(out) != 3 || sent != 2 || got != 1 {
		t.Fatalf("merged %d rows, sent %d, results %d", len(out), sent, got)
	}
	if out[0].Get("predicted_y").String() != "3.1" || out[0].Get("score").String() != "0.9" || out[0].Get("n").Kind() != search.Num {
		t.Errorf("row 1 = %v", out[0].Map())
	}
	if !out[1].Has("predicted_y") || !out[1].Get("predicted_y").IsNull() || out[1].Get("id").String() != "b" || out[1].Has("score") {
		t.Errorf("row 2 (missing x) = %v, want an empty predicted_y and no stale score", out[1].Map())
	}
	if !out[2].Get("predicted_y").IsNull() || out[2].Get("mv").Kind() != search.Multi {
		t.Errorf("row 3 (no result) = %v", out[2].Map())
	}
}

func TestFeedStopsOnUpstreamError(t *testing.T) {
	sp, err := newSpool(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer sp.remove()
	boom := io.ErrUnexpectedEOF
	rows := func(yield func(*search.Row, error) bool) {
		if yield(row("x", "1"), nil) {
			yield(nil, boom)
		}
	}
	if _, err := feed(io.Discard, rows, []string{"x"}, sp); err != boom {
		t.Fatalf("feed = %v, want the upstream error", err)
	}
}

func TestFlatten(t *testing.T) {
	var out []kv
	flatten("nb", map[string]any{"b": 1.5, "a": map[string]any{"z": "s", "l": []any{1.0, "x"}}, "m": []any{map[string]any{"k": 1.0}}}, &out)
	want := []kv{{"nb.a.l", "1,x"}, {"nb.a.z", "s"}, {"nb.b", "1.5"}, {"nb.m", `[{"k":1}]`}}
	if !reflect.DeepEqual(out, want) {
		t.Errorf("flatten = %v, want %v", out, want)
	}
}

func TestBuildMetaCarriesEveryTarget(t *testing.T) {
	cols := columns{Targets: []string{"y1", "y2"}, Features: []string{"x1", "x2"}}
	if got, want := cols.Names(), []string{"y1", "y2", "x1", "x2"}; !reflect.DeepEqual(got, want) {
		t.Errorf("columns sent = %v, want %v (targets first)", got, want)
	}
	b, err := buildMeta(metaInput{Algo: "nb", ModelName: "M", Args: []string{"y1", "y2", "x*"}, Columns: cols})
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Options struct {
			Args           []string `json:"args"`
			TargetVariable []string `json:"target_variable"`
		} `json:"options"`
		TargetVariables []string `json:"target_variables"`
	}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	want := []string{"y1", "y2"}
	if !reflect.DeepEqual(m.TargetVariables, want) || !reflect.DeepEqual(m.Options.TargetVariable, want) ||
		!reflect.DeepEqual(m.Options.Args, []string{"y1", "y2", "x*"}) {
		t.Errorf("meta = %s, want both targets in target_variables and options.target_variable", b)
	}
}
