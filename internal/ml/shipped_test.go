package ml

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/ml/algos"
	"github.com/dockyard/dockyard/internal/models"
	"github.com/dockyard/dockyard/internal/search"
	"github.com/dockyard/dockyard/internal/spl"
)

func TestFitAlgo(t *testing.T) {
	for _, c := range []struct {
		cmd     spl.Fit
		algo    string
		shipped bool
		err     string
	}{
		{spl.Fit{Algorithm: "MLTKContainer", Algo: "linreg"}, "linreg", false, ""},
		{spl.Fit{Algorithm: "mltkcontainer", Algo: "linreg"}, "linreg", false, ""},
		{spl.Fit{Algorithm: "StandardScaler"}, "StandardScaler", true, ""},
		{spl.Fit{Algorithm: "kmeans"}, "KMeans", true, ""},
		{spl.Fit{Algorithm: "KMeans", Algo: "KMeans"}, "KMeans", true, ""},
		{spl.Fit{Algorithm: "KMeans", Algo: "mine"}, "", false, "algo=mine does not apply"},
		{spl.Fit{Algorithm: "MLTKContainer", Algo: "nb", Targets: []string{"y1", "y2"}}, "nb", false, ""},
		{spl.Fit{Algorithm: "LinearRegression", Targets: []string{"y1", "y2"}}, "", false, "takes one target before from, not 2"},
		{spl.Fit{Algorithm: "DBSCAN"}, "", false, "fit DBSCAN is not available: Dockyard runs the MLTK algorithms IsolationForest, KMeans"},
	} {
		algo, shipped, err := fitAlgo(&c.cmd)
		switch {
		case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err) || !errdefs.IsInvalid(err)):
			t.Errorf("fit %s algo=%s: err %v, want an invalid-argument error with %q", c.cmd.Algorithm, c.cmd.Algo, err, c.err)
		case c.err == "" && (err != nil || algo != c.algo || shipped != c.shipped):
			t.Errorf("fit %s algo=%s = %q, %v, %v; want %q, %v", c.cmd.Algorithm, c.cmd.Algo, algo, shipped, err, c.algo, c.shipped)
		}
	}
}

// The shipped notebook implements exactly the names Go resolves.
func TestShippedNamesMatchTheNotebook(t *testing.T) {
	src := string(algos.Source)
	for _, n := range algos.Names() {
		if !strings.Contains(src, `"`+n+`": (`) {
			t.Errorf("%s resolves but mltk_algorithms.py does not implement it", n)
		}
	}
	if strings.Count(src, `": ("`) != len(algos.Names()) {
		t.Errorf("mltk_algorithms.py implements %d algorithms, Go resolves %d", strings.Count(src, `": ("`), len(algos.Names()))
	}
	c := shippedCode()
	if c.v.Digest != algos.Digest() || c.sha() == "" || len(c.sha()) != 64 || c.v.Format != "py" {
		t.Errorf("shipped code = %+v", c.v)
	}
	if _, ok := shippedByDigest("sha256:" + strings.Repeat("0", 64)); ok {
		t.Error("another digest resolves to the shipped notebook")
	}
}

func TestSeedResident(t *testing.T) {
	if !seedResident([]models.File{{Path: seedManifest}}) {
		t.Error("the manifest alone is not seed-resident")
	}
	if seedResident([]models.File{{Path: seedManifest}, {Path: "model.pkl"}}) || seedResident([]models.File{{Path: "model.pkl"}}) || seedResident(nil) {
		t.Error("a version with model files is seed-resident")
	}
}

// Shipped algorithms name their columns as MLTK does; as renames the first.
func TestMergeVerbatim(t *testing.T) {
	dir := t.TempDir()
	sp, err := newSpool(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer sp.remove()
	var sink strings.Builder
	if _, err := feed(&sink, search.FromRows([]*search.Row{row("y", "1", "x", "2")}), []string{"y", "x"}, sp); err != nil {
		t.Fatal(err)
	}
	results := filepath.Join(dir, "r.csv")
	os.WriteFile(results, []byte("predicted(y),probability(y=a)\n1.5,0.2\n"), 0o600)
	for _, c := range []struct{ as, first string }{{"", "predicted(y)"}, {"guess", "guess"}} {
		m := &merged{sp: sp, results: results, targets: []string{"y"}, as: c.as, verbatim: true}
		n := 0
		for r, err := range m.rows {
			n++
			if err != nil {
				t.Fatal(err)
			}
			if r.Get(c.first).String() != "1.5" || r.Get("probability(y=a)").String() != "0.2" || r.Has("predicted_y") {
				t.Errorf("as %q: row = %v", c.as, r.Map())
			}
		}
		if n != 1 {
			t.Errorf("as %q: %d rows, want 1", c.as, n)
		}
	}
}
