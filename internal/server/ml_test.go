package server_test

import (
	"context"
	"fmt"
	"math"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/dockyard/dockyard/internal/access"
	"github.com/dockyard/dockyard/internal/client"
	"github.com/dockyard/dockyard/internal/containers"
	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/server/servertest"
	"github.com/dockyard/dockyard/internal/wire"
)

func needPython(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("python3 is not installed: the notebook runner needs it (apt-get install python3)")
	}
}

// linearCSV is a table of x and y = a*x + b for x = 1..n, with one more
// row whose x is missing.
func linearCSV(a, b float64, n int) string {
	var sb strings.Builder
	sb.WriteString("x,y\n")
	for x := 1; x <= n; x++ {
		fmt.Fprintf(&sb, "%d,%g\n", x, a*float64(x)+b)
	}
	sb.WriteString(",5\n")
	return sb.String()
}

func mlSearch(t *testing.T, c *client.Client, spl string) wire.SearchResults {
	t.Helper()
	res, err := c.SearchAll(context.Background(), spl, "")
	if err != nil {
		t.Fatalf("search %q: %v", spl, err)
	}
	return res
}

func num(t *testing.T, r wire.Row, field string) float64 {
	t.Helper()
	s, _ := r.Get(field)
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatalf("field %s = %q in %v: not a number", field, s, r)
	}
	return f
}

func kvOf(res wire.SearchResults) map[string]string {
	m := map[string]string{}
	for _, r := range res.Results {
		k, _ := r.Get("key")
		v, _ := r.Get("value")
		m[k] = v
	}
	return m
}

func hasMessage(msgs []string, parts ...string) bool {
	for _, m := range msgs {
		ok := true
		for _, p := range parts {
			ok = ok && strings.Contains(m, p)
		}
		if ok {
			return true
		}
	}
	return false
}

// TestFitApplySummaryEndToEnd trains the example linear-regression notebook
// through the real server, a process-runtime container with its agent, and
// python3.
func TestFitApplySummaryEndToEnd(t *testing.T) {
	needPython(t)
	ctx := context.Background()
	h := servertest.Start(t)
	cleanupContainers(t, h)
	// power: alice shares models into the default app, which needs write on it.
	alice := h.User("alice", access.RoleContainerUser, access.RolePower)
	uma := h.User("uma", access.RoleUser)

	nb, err := os.ReadFile("../../examples/notebooks/linear_regression.ipynb")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := alice.PushNotebook(ctx, "linreg", "ipynb", "", nb); err != nil {
		t.Fatalf("push notebook: %v", err)
	}
	for name, body := range map[string]string{
		"boom":  "def init(df, param):\n    return {}\n\ndef fit(model, df, param):\n    raise ValueError('boom: the notebook failed on purpose')\n\ndef apply(model, df, param):\n    return df\n",
		"nofit": "def init(df, param):\n    return {}\n",
	} {
		if _, err := alice.PushNotebook(ctx, name, "py", "", []byte(body)); err != nil {
			t.Fatalf("push %s: %v", name, err)
		}
	}
	for name, body := range map[string]string{
		"d1.csv": linearCSV(2, 1, 20),  // y = 2x + 1
		"d2.csv": linearCSV(3, -1, 20), // y = 3x - 1
		"x.csv":  "x\n10\n100\n",
	} {
		if _, err := alice.UploadLookup(ctx, name, strings.NewReader(body)); err != nil {
			t.Fatalf("upload %s: %v", name, err)
		}
	}

	t.Run("fit registers version 1 with lineage", func(t *testing.T) {
		res := mlSearch(t, alice, "| inputlookup d1.csv | fit MLTKContainer algo=linreg epochs=3 y from x into app:MyModel")
		if len(res.Results) != 21 {
			t.Fatalf("fit returned %d rows, want all 21 (none dropped): %v", len(res.Results), res.Results)
		}
		if got := num(t, res.Results[4], "predicted_y"); math.Abs(got-11) > 1e-6 {
			t.Errorf("predicted_y for x=5 = %v, want 11", got)
		}
		last := res.Results[20]
		if v, ok := last.Get("predicted_y"); !ok || v != "" {
			t.Errorf("row with a missing x: predicted_y = %q (present %v), want an empty prediction", v, ok)
		}
		if !hasMessage(res.Messages, "1 of 21 rows had missing values", "x: 1", "rows 21") {
			t.Errorf("no message about the missing value: %q", res.Messages)
		}
		if !hasMessage(res.Messages, "registered app:MyModel version 1") {
			t.Errorf("no registration message: %q", res.Messages)
		}
		if !hasMessage(res.Messages, "fitted 20 rows") {
			t.Errorf("the notebook's printed line is not among the messages: %q", res.Messages)
		}
		sum := kvOf(mlSearch(t, alice, "| summary app:MyModel"))
		for k, want := range map[string]string{
			"version": "1", "container": "alice/__dev__", "rows": "20", "features": "x", "target": "y",
			"notebook": "linreg", "algo": "linreg", "runtime": "process", "params.epochs": "3",
			"notebook.algorithm": "ordinary least squares", "fit_info.notebook.rows": "20",
			"fit_info.missing_values.rows": "1",
		} {
			if sum[k] != want {
				t.Errorf("summary %s = %q, want %q", k, sum[k], want)
			}
		}
		for _, k := range []string{"notebook_digest", "data_fingerprint", "digest", "image", "image_digest"} {
			if !strings.HasPrefix(sum[k], "sha256:") && (k != "image" || sum[k] == "") {
				t.Errorf("summary %s = %q", k, sum[k])
			}
		}
		if got, _ := strconv.ParseFloat(sum["notebook.intercept"], 64); math.Abs(got-1) > 1e-6 {
			t.Errorf("notebook summary intercept = %q, want 1", sum["notebook.intercept"])
		}
	})

	t.Run("the fit is in the audit index", func(t *testing.T) {
		res := mlSearch(t, h.Admin, `index=_internal "mltk-container" "into=app:MyModel"`)
		found := false
		for _, r := range res.Results {
			raw, _ := r.Get("_raw")
			if strings.Contains(raw, "alice") && strings.Contains(raw, "model.fit") && strings.Contains(raw, "version=1") {
				found = true
			}
		}
		if !found {
			t.Errorf("no fit event by alice for app:MyModel version 1 in %v", res.Results)
		}
	})

	t.Run("re-fit makes version 2 current; apply @1 uses version 1's files", func(t *testing.T) {
		res := mlSearch(t, alice, "| inputlookup d2.csv | fit MLTKContainer algo=linreg y from x into app:MyModel")
		if !hasMessage(res.Messages, "version 2") {
			t.Fatalf("re-fit messages = %q", res.Messages)
		}
		sum := kvOf(mlSearch(t, alice, "| summary app:MyModel"))
		if sum["version"] != "2" || !strings.Contains(sum["aliases"], "current=2") {
			t.Errorf("after re-fit: version %q aliases %q", sum["version"], sum["aliases"])
		}
		v1 := mlSearch(t, alice, "| inputlookup x.csv | apply app:MyModel@1 as p")
		if got := num(t, v1.Results[0], "p"); math.Abs(got-21) > 1e-6 {
			t.Errorf("apply @1 at x=10 = %v, want 21 (2x+1)", got)
		}
		cur := mlSearch(t, alice, "| inputlookup x.csv | apply app:MyModel")
		if got := num(t, cur.Results[1], "predicted_y"); math.Abs(got-299) > 1e-6 {
			t.Errorf("apply current at x=100 = %v, want 299 (3x-1)", got)
		}
	})

	t.Run("apply restores the files into a fresh container", func(t *testing.T) {
		p, err := h.Srv.Access().EffectivePrincipal(ctx, "alice", "")
		if err != nil {
			t.Fatal(err)
		}
		if err := h.Srv.Containers().Remove(ctx, p, containers.DevName); err != nil {
			t.Fatalf("remove the dev container: %v", err)
		}
		res := mlSearch(t, alice, "| inputlookup x.csv | apply app:MyModel@1 as p")
		if got := num(t, res.Results[0], "p"); math.Abs(got-21) > 1e-6 {
			t.Errorf("apply @1 in a fresh container at x=10 = %v, want 21", got)
		}
		if !hasMessage(res.Messages, "loaded 1 model file(s) of app:MyModel version 1") {
			t.Errorf("no restore message: %q", res.Messages)
		}
	})

	t.Run("the model's own container, and container=NAME", func(t *testing.T) {
		if _, err := alice.StartContainer(ctx, "mc", wire.ContainerStart{Model: "app:MyModel"}); err != nil {
			t.Fatalf("start mc: %v", err)
		}
		res := mlSearch(t, alice, "| inputlookup d1.csv | fit MLTKContainer algo=linreg y from x into app:MyModel")
		if !hasMessage(res.Messages, "version 3", "in container mc") {
			t.Errorf("fit into a model with its own container: %q", res.Messages)
		}
		res = mlSearch(t, alice, "| inputlookup x.csv | apply app:MyModel@2")
		if got := num(t, res.Results[0], "predicted_y"); math.Abs(got-29) > 1e-6 || !hasMessage(res.Messages, "container mc") {
			t.Errorf("apply @2 in mc at x=10 = %v (want 29), messages %q", got, res.Messages)
		}
		res = mlSearch(t, alice, "| inputlookup d1.csv | fit MLTKContainer algo=linreg container=mc y from x into Other")
		if !hasMessage(res.Messages, "registered Other version 1", "in container mc") {
			t.Errorf("fit with container=mc: %q", res.Messages)
		}
		if sum := kvOf(mlSearch(t, alice, "| summary Other")); sum["container"] != "mc" {
			t.Errorf("lineage container = %q, want mc", sum["container"])
		}
		if _, err := alice.StopContainer(ctx, "mc"); err != nil {
			t.Errorf("stop mc: %v", err)
		}
	})

	t.Run("a notebook that raises gives its traceback", func(t *testing.T) {
		_, err := alice.SearchAll(ctx, "| inputlookup d1.csv | fit MLTKContainer algo=boom y from x into Boom", "")
		if err == nil || !strings.Contains(err.Error(), "Traceback") || !strings.Contains(err.Error(), "boom: the notebook failed on purpose") {
			t.Fatalf("fit with a raising notebook = %v, want the traceback", err)
		}
	})

	t.Run("a notebook without fit is named", func(t *testing.T) {
		_, err := alice.SearchAll(ctx, "| inputlookup d1.csv | fit MLTKContainer algo=nofit y from x into NoFit", "")
		if err == nil || !strings.Contains(err.Error(), "fit()") {
			t.Fatalf("fit with a notebook lacking fit = %v, want a message naming fit()", err)
		}
	})

	t.Run("a plain user may not start a dev container for a fit", func(t *testing.T) {
		if _, err := uma.UploadLookup(ctx, "d1.csv", strings.NewReader(linearCSV(2, 1, 5))); err != nil {
			t.Fatal(err)
		}
		_, err := uma.SearchAll(ctx, "| inputlookup d1.csv | fit MLTKContainer algo=linreg y from x into Mine", "")
		if !errdefs.IsPermissionDenied(err) || !strings.Contains(err.Error(), "control_mltk_container") {
			t.Fatalf("plain user fit = %v, want permission denied naming control_mltk_container", err)
		}
	})

	t.Run("private models are hidden; listmodels and deletemodel", func(t *testing.T) {
		mlSearch(t, alice, "| inputlookup d1.csv | fit MLTKContainer algo=linreg y from x into Secret")
		names := func(c *client.Client) string {
			var l []string
			for _, r := range mlSearch(t, c, "| listmodels").Results {
				n, _ := r.Get("name")
				l = append(l, n)
			}
			return strings.Join(l, ",")
		}
		if got := names(alice); !strings.Contains(got, "MyModel") || !strings.Contains(got, "Secret") {
			t.Errorf("alice's listmodels = %s", got)
		}
		if got := names(uma); strings.Contains(got, "Secret") {
			t.Errorf("uma sees alice's private model: %s", got)
		}
		_, err := uma.SearchAll(ctx, "| makeresults count=1 | eval x=10 | apply Secret", "")
		if !errdefs.IsNotFound(err) || !strings.Contains(err.Error(), "model not found: Secret") {
			t.Errorf("uma applies alice's private model = %v, want model not found", err)
		}
		if _, err := uma.SearchAll(ctx, "| deletemodel app:MyModel", ""); !errdefs.IsPermissionDenied(err) {
			t.Errorf("uma deletes alice's model = %v, want permission denied", err)
		}
		mlSearch(t, alice, "| deletemodel Secret")
		if got := names(alice); strings.Contains(got, "Secret") {
			t.Errorf("after deletemodel: %s", got)
		}
	})
}
