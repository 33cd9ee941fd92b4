package server_test

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/dockyard/dockyard/internal/access"
	"github.com/dockyard/dockyard/internal/client"
	"github.com/dockyard/dockyard/internal/ml/algos"
	"github.com/dockyard/dockyard/internal/server/servertest"
	"github.com/dockyard/dockyard/internal/wire"
)

// debianPython is the interpreter with scikit-learn (Debian's
// python3-sklearn); the python3 first on PATH may lack it.
const debianPython = "/usr/bin/python3"

func needSklearn(t *testing.T) {
	t.Helper()
	if err := exec.Command(debianPython, "-c", "import sklearn, pandas").Run(); err != nil {
		t.Skipf("%s cannot import scikit-learn and pandas (%v): apt-get install python3-sklearn python3-pandas", debianPython, err)
	}
}

// mltkCase is one MLTK algorithm name fitted on iris: the search's
// arguments, and the scikit-learn call that computes the same columns.
type mltkCase struct {
	algo, args string
	ref        string // Python: est (the estimator) on X (features) and y; out maps column to values
}

var irisFeatures = "sepal_length sepal_width petal_length petal_width"

var mltkCases = []mltkCase{
	{"StandardScaler", "with_mean=true " + irisFeatures,
		`out = {"SS_"+c: v for c, v in zip(F, P.StandardScaler(with_mean=True).fit_transform(X).T)}`},
	{"RobustScaler", "quantile_range=10-90 " + irisFeatures,
		`out = {"RS_"+c: v for c, v in zip(F, P.RobustScaler(quantile_range=(10.0, 90.0)).fit_transform(X).T)}`},
	{"MinMaxScaler", irisFeatures,
		`out = {"MMS_"+c: v for c, v in zip(F, P.MinMaxScaler().fit_transform(X).T)}`},
	{"PCA", "k=2 " + irisFeatures,
		`out = {"PC_%d" % (i+1): v for i, v in enumerate(D.PCA(n_components=2).fit_transform(X).T)}`},
	{"KMeans", "k=3 random_state=0 " + irisFeatures,
		`e = C.KMeans(n_clusters=3, random_state=0).fit(X); out = {"cluster": e.predict(X), "cluster_distance": e.transform(X).min(axis=1)}`},
	{"LinearRegression", "fit_intercept=true petal_width from sepal_length sepal_width petal_length",
		`X = X[F[:3]]; out = {"predicted(petal_width)": L.LinearRegression(fit_intercept=True).fit(X, df["petal_width"]).predict(X)}`},
	{"LogisticRegression", "species from " + irisFeatures,
		`out = {"predicted(species)": L.LogisticRegression().fit(X, df["species"]).predict(X)}`},
	{"RandomForestClassifier", "n_estimators=10 max_depth=3 max_features=2 random_state=42 species from " + irisFeatures,
		`out = {"predicted(species)": E.RandomForestClassifier(n_estimators=10, max_depth=3, max_features=2, random_state=42).fit(X, df["species"]).predict(X)}`},
	{"RandomForestRegressor", "n_estimators=10 max_depth=4 random_state=42 petal_width from sepal_length sepal_width petal_length",
		`X = X[F[:3]]; out = {"predicted(petal_width)": E.RandomForestRegressor(n_estimators=10, max_depth=4, random_state=42).fit(X, df["petal_width"]).predict(X)}`},
	{"IsolationForest", "n_estimators=50 contamination=0.05 random_state=42 " + irisFeatures,
		`out = {"isOutlier": E.IsolationForest(n_estimators=50, contamination=0.05, random_state=42).fit(X).predict(X)}`},
}

// sklearnReference runs every case's scikit-learn call directly on the
// iris file and returns, per algorithm, its columns as strings.
func sklearnReference(t *testing.T, iris string) map[string]map[string][]string {
	t.Helper()
	var sb strings.Builder
	sb.WriteString("import json, sys, warnings\nwarnings.simplefilter('ignore')\nimport pandas as pd\n" +
		"import sklearn.preprocessing as P, sklearn.decomposition as D, sklearn.cluster as C, sklearn.linear_model as L, sklearn.ensemble as E\n" +
		"df = pd.read_csv(sys.argv[1])\nF = ['sepal_length', 'sepal_width', 'petal_length', 'petal_width']\nres = {}\n")
	for _, c := range mltkCases {
		sb.WriteString("X = df[F]\n" + c.ref + "\nres[" + strconv.Quote(c.algo) + "] = {k: [str(x) for x in v] for k, v in out.items()}\n")
	}
	sb.WriteString("json.dump(res, sys.stdout)\n")
	script := filepath.Join(t.TempDir(), "ref.py")
	if err := os.WriteFile(script, []byte(sb.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(debianPython, script, iris).Output()
	if err != nil {
		t.Fatalf("the scikit-learn reference failed: %v", err)
	}
	var ref map[string]map[string][]string
	if err := json.Unmarshal(out, &ref); err != nil {
		t.Fatalf("reference output: %v", err)
	}
	return ref
}

func sameValue(got, want string) bool {
	g, err1 := strconv.ParseFloat(got, 64)
	w, err2 := strconv.ParseFloat(want, 64)
	if err1 != nil || err2 != nil {
		return got == want
	}
	return math.Abs(g-w) <= 1e-6*math.Max(1, math.Abs(w))
}

func checkAgainst(t *testing.T, what string, res wire.SearchResults, want map[string][]string) {
	t.Helper()
	if len(want) == 0 {
		t.Fatalf("%s: no reference columns", what)
	}
	for col, vals := range want {
		if len(res.Results) != len(vals) {
			t.Fatalf("%s: %d rows, want %d", what, len(res.Results), len(vals))
		}
		bad := 0
		for i, r := range res.Results {
			got, ok := r.Get(col)
			if !ok || !sameValue(got, vals[i]) {
				if bad++; bad <= 3 {
					t.Errorf("%s: row %d: %s = %q (present %v), scikit-learn gives %s", what, i+1, col, got, ok, vals[i])
				}
			}
		}
	}
}

// fitSearch writes the fit as MLTK users do (fit KMeans k=3 a b into m).
func fitSearch(algo, args, into string) string {
	return "| inputlookup iris.csv | fit " + algo + " " + args + " into " + into
}

// TestMLTKAlgorithmsMatchScikitLearn fits and applies each MLTK algorithm
// name on iris through a real server (process runtime, Debian's Python)
// and checks the columns against scikit-learn called directly.
func TestMLTKAlgorithmsMatchScikitLearn(t *testing.T) {
	needSklearn(t)
	ctx := context.Background()
	cfg := servertest.Config(t.TempDir())
	cfg.Containers.Python = debianPython
	h := servertest.StartConfig(t, cfg)
	cleanupContainers(t, h)
	alice := h.User("alice", access.RoleContainerUser)
	iris := "../../examples/data/iris.csv"
	f, err := os.Open(iris)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := alice.UploadLookup(ctx, "iris.csv", f); err != nil {
		t.Fatalf("upload iris: %v", err)
	}
	ref := sklearnReference(t, iris)
	for _, c := range mltkCases {
		t.Run(c.algo, func(t *testing.T) {
			model := "m_" + strings.ToLower(c.algo)
			res := mlSearch(t, alice, fitSearch(c.algo, c.args, model))
			checkAgainst(t, "fit", res, ref[c.algo])
			if !hasMessage(res.Messages, "registered "+model+" version 1") {
				t.Errorf("no registration message: %q", res.Messages)
			}
			checkAgainst(t, "apply", mlSearch(t, alice, "| inputlookup iris.csv | apply "+model), ref[c.algo])
			sum := kvOf(mlSearch(t, alice, "| summary "+model))
			if sum["algo"] != c.algo || sum["notebook.algorithm"] != c.algo {
				t.Errorf("summary: algo %q, notebook.algorithm %q; want %s: %v", sum["algo"], sum["notebook.algorithm"], c.algo, sum)
			}
			// Provenance: the version records the shipped notebook's digest.
			if sum["notebook"] != algos.Notebook || sum["notebook_digest"] != algos.Digest() || sum["notebook_pinned"] != "true" {
				t.Errorf("summary lineage: notebook %q digest %q pinned %q; want %s %s true",
					sum["notebook"], sum["notebook_digest"], sum["notebook_pinned"], algos.Notebook, algos.Digest())
			}
		})
	}
}

// TestMLTKAlgorithmsWithoutScikitLearn runs an MLTK algorithm name in a
// container whose Python cannot import scikit-learn: the fit fails with a
// message naming the interpreter and Debian's package.
func TestMLTKAlgorithmsWithoutScikitLearn(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("no python3 on PATH")
	}
	if exec.Command(py, "-c", "import sklearn").Run() == nil {
		t.Skipf("%s imports scikit-learn; this test needs a Python without it", py)
	}
	ctx := context.Background()
	cfg := servertest.Config(t.TempDir())
	cfg.Containers.Python = py
	h := servertest.StartConfig(t, cfg)
	cleanupContainers(t, h)
	alice := h.User("alice", access.RoleContainerUser)
	if _, err := alice.UploadLookup(ctx, "t.csv", strings.NewReader("x,y\n1,2\n3,4\n")); err != nil {
		t.Fatal(err)
	}
	q := "| inputlookup t.csv | fit StandardScaler x y into ss"
	_, err = alice.SearchAll(ctx, q, "")
	if err == nil || !strings.Contains(err.Error(), "python3-sklearn") || !strings.Contains(err.Error(), "cannot import") {
		t.Fatalf("fit with a Python without scikit-learn: %v; want a message naming python3-sklearn and the interpreter", err)
	}
}

// TestMLTKFitWithoutInto fits an MLTK algorithm name without into, as MLTK
// users write it (| fit StandardScaler x y): the rows come back scaled and
// nothing is kept.
func TestMLTKFitWithoutInto(t *testing.T) {
	needSklearn(t)
	q := "| inputlookup t.csv | fit StandardScaler x y"
	ctx := context.Background()
	cfg := servertest.Config(t.TempDir())
	cfg.Containers.Python = debianPython
	h := servertest.StartConfig(t, cfg)
	cleanupContainers(t, h)
	alice := h.User("alice", access.RoleContainerUser)
	if _, err := alice.UploadLookup(ctx, "t.csv", strings.NewReader("x,y\n1,10\n3,30\n")); err != nil {
		t.Fatal(err)
	}
	res := mlSearch(t, alice, q)
	if len(res.Results) != 2 {
		t.Fatalf("%d rows, want 2", len(res.Results))
	}
	for i, want := range []float64{-1, 1} { // (1-2)/1 and (3-2)/1: population standard deviation
		if got := num(t, res.Results[i], "SS_x"); math.Abs(got-want) > 1e-9 {
			t.Errorf("row %d: SS_x = %v, want %v", i+1, got, want)
		}
	}
	if !hasMessage(res.Messages, "no model was kept") {
		t.Errorf("messages: %q", res.Messages)
	}
	page, err := alice.Models(ctx, client.ModelFilter{})
	if err != nil || len(page.Models) != 0 {
		t.Errorf("a fit without into: models %v (%v), want none", page.Models, err)
	}
}
