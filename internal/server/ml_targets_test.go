package server_test

import (
	"context"
	"math"
	"strings"
	"testing"

	"github.com/dockyard/dockyard/internal/access"
	"github.com/dockyard/dockyard/internal/server/servertest"
)

// twoTargets is a notebook for two targets: it checks that the columns it
// gets are the targets, then the features, and that param names both
// targets; each prediction is ratio_i * x, where ratio_i fits target i.
const twoTargets = `import json
try:
    import pandas as pd
except ImportError:
    pd = None

MODEL_DIRECTORY = "/srv/app/model/data/"

def _cols(df):
    if pd is not None and isinstance(df, pd.DataFrame):
        return list(df.columns)
    return list(df[0].keys()) if df else []

def _col(df, name):
    if pd is not None and isinstance(df, pd.DataFrame):
        return [float(v) for v in df[name].tolist()]
    return [float(r[name]) for r in df]

def init(df, param):
    return {"targets": list(param["target_variables"]), "features": list(param["feature_variables"])}

def fit(model, df, param):
    want = model["targets"] + model["features"]
    if _cols(df) != want:
        raise ValueError("columns sent %s, want %s" % (_cols(df), want))
    if param["options"]["target_variable"] != model["targets"]:
        raise ValueError("options.target_variable %s" % param["options"]["target_variable"])
    x = _col(df, "x")
    model["ratios"] = [sum(_col(df, t)) / sum(x) for t in model["targets"]]
    return {"targets": model["targets"]}

def apply(model, df, param):
    if param["target_variables"] != model["targets"]:
        raise ValueError("apply got target_variables %s" % param["target_variables"])
    x = _col(df, "x")
    cols = {"a%d" % i: [r * v for v in x] for i, r in enumerate(model["ratios"])}
    cols["extra"] = [1.0 for v in x]
    if pd is not None:
        return pd.DataFrame(cols)
    names = list(cols)
    return [dict(zip(names, vals)) for vals in zip(*cols.values())]

def save(model, name):
    with open(MODEL_DIRECTORY + name + ".json", "w") as f:
        json.dump(model, f)
    return model

def load(name):
    with open(MODEL_DIRECTORY + name + ".json") as f:
        return json.load(f)
`

// TestFitSeveralTargetsEndToEnd fits a notebook on two targets through the
// real server and a process-runtime container, then applies the model.
func TestFitSeveralTargetsEndToEnd(t *testing.T) {
	needPython(t)
	ctx := context.Background()
	h := servertest.Start(t)
	cleanupContainers(t, h)
	alice := h.User("alice", access.RoleContainerUser, access.RolePower)
	if _, err := alice.PushNotebook(ctx, "two", "py", "", []byte(twoTargets)); err != nil {
		t.Fatalf("push notebook: %v", err)
	}
	for name, body := range map[string]string{
		"t.csv": "y1,x,y2\n2,1,3\n4,2,6\n6,3,9\n",
		"x.csv": "x\n10\n",
	} {
		if _, err := alice.UploadLookup(ctx, name, strings.NewReader(body)); err != nil {
			t.Fatalf("upload %s: %v", name, err)
		}
	}
	near := func(got, want float64) bool { return math.Abs(got-want) < 1e-6 }

	res := mlSearch(t, alice, "| inputlookup t.csv | fit MLTKContainer algo=two y1 y2 from x into app:Two")
	if len(res.Results) != 3 {
		t.Fatalf("fit returned %d rows, want 3: %v (messages %q)", len(res.Results), res.Results, res.Messages)
	}
	r := res.Results[1]
	if got1, got2 := num(t, r, "predicted_y1"), num(t, r, "predicted_y2"); !near(got1, 4) || !near(got2, 6) {
		t.Errorf("fit at x=2: predicted_y1 %v predicted_y2 %v, want 4 and 6", got1, got2)
	}
	if v, _ := r.Get("extra"); v != "1.0" && v != "1" {
		t.Errorf("a result column past the targets keeps its name: extra = %q in %v", v, r)
	}
	sum := kvOf(mlSearch(t, alice, "| summary app:Two"))
	if sum["target"] != "y1,y2" || sum["features"] != "x" {
		t.Errorf("summary target %q features %q, want y1,y2 and x", sum["target"], sum["features"])
	}

	app := mlSearch(t, alice, "| inputlookup x.csv | apply app:Two")
	if len(app.Results) != 1 {
		t.Fatalf("apply returned %v (messages %q)", app.Results, app.Messages)
	}
	if got1, got2 := num(t, app.Results[0], "predicted_y1"), num(t, app.Results[0], "predicted_y2"); !near(got1, 20) || !near(got2, 30) {
		t.Errorf("apply at x=10: predicted_y1 %v predicted_y2 %v, want 20 and 30", got1, got2)
	}
	as := mlSearch(t, alice, "| inputlookup x.csv | apply app:Two as p")
	if got1, got2 := num(t, as.Results[0], "p"), num(t, as.Results[0], "predicted_y2"); !near(got1, 20) || !near(got2, 30) {
		t.Errorf("apply as p at x=10: p %v predicted_y2 %v, want 20 and 30", got1, got2)
	}
}
