package wire

import (
	"encoding/json"
	"testing"
)

// TestModelSummaryFlattensLineage: `models show -o json` carries the
// lineage fields at the top level, as docs/models.md lists them.
func TestModelSummaryFlattensLineage(t *testing.T) {
	b, err := json.Marshal(ModelSummary{Name: "M", ModelLineage: ModelLineage{Notebook: "nb", NotebookDigest: "sha256:ab", Rows: 3, Target: "y"}})
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"name", "notebook", "notebook_digest", "rows", "target"} {
		if _, ok := m[k]; !ok {
			t.Errorf("summary JSON lacks %q: %s", k, b)
		}
	}
	if _, ok := m["ModelLineage"]; ok {
		t.Errorf("lineage nested instead of flattened: %s", b)
	}
}
