package agent_test

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dockyard/dockyard/internal/agent/agenttest"
)

// TestExampleNotebooksOnIris runs the example notebooks on the example data
// through the agent: the classifier (needs scikit-learn) and the template.
func TestExampleNotebooksOnIris(t *testing.T) {
	if err := exec.Command("/usr/bin/python3", "-c", "import sklearn, pandas").Run(); err != nil {
		t.Skipf("/usr/bin/python3 cannot import sklearn and pandas (%v); install python3-sklearn python3-pandas", err)
	}
	iris, err := os.ReadFile(filepath.Join("..", "..", "examples", "data", "iris.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(iris), "\n"); n != 151 {
		t.Fatalf("iris.csv has %d lines, want a header and 150 rows", n)
	}
	a := agenttest.Start(t, agenttest.Options{Python: "/usr/bin/python3"})
	c := client(a)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	feats := []string{"sepal_length", "sepal_width", "petal_length", "petal_width"}
	for _, tc := range []struct {
		nb, file, firstCol string
	}{
		{"sklearn_classifier", "sklearn_classifier_Iris.pkl", "prediction"},
		{"barebone_template", "barebone_template_Iris.json", "sepal_length"},
	} {
		t.Run(tc.nb, func(t *testing.T) {
			if _, err := c.PutNotebook(ctx, tc.nb+".ipynb", readNotebook(t, tc.nb+".ipynb")); err != nil {
				t.Fatal(err)
			}
			meta, _ := json.Marshal(map[string]any{
				"options":           map[string]any{"params": map[string]string{"algo": tc.nb, "n_estimators": "20"}, "model_name": "Iris"},
				"feature_variables": feats, "target_variables": []string{"species"}})
			ans, err := c.Fit(ctx, meta, string(iris))
			if err != nil || ans.Status != "success" {
				t.Fatalf("fit: %+v, %v", ans, err)
			}
			if len(ans.Files) != 1 || ans.Files[0].Path != tc.file {
				t.Errorf("files = %+v, want %s", ans.Files, tc.file)
			}
			ans, err = c.Apply(ctx, meta, string(iris))
			if err != nil || ans.Status != "success" || !strings.HasPrefix(ans.Results, tc.firstCol) {
				t.Fatalf("apply: %+v, %v", ans, err)
			}
			if tc.nb == "sklearn_classifier" {
				lines := strings.Split(ans.Results, "\n")
				if !strings.HasPrefix(lines[1], "setosa,") || !strings.HasPrefix(lines[150], "virginica,") {
					t.Errorf("predictions: first %q, last %q; want setosa and virginica", lines[1], lines[150])
				}
			}
			sum, err := c.Summary(ctx, tc.nb, "Iris")
			if err != nil || sum.Status != "success" || len(sum.Summary) < 10 {
				t.Errorf("summary: %+v, %v", sum, err)
			}
		})
	}
}
