package search

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// TestPipelineGolden runs every testdata/pipeline/*.spl against the test
// lookups and events and compares the CSV output (then any messages, or the
// error) with NAME.csv.
func TestPipelineGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/pipeline/*.spl")
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden inputs: %v", err)
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".spl")
		t.Run(name, func(t *testing.T) {
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			got := runReport(t, strings.TrimSpace(string(src)))
			golden := strings.TrimSuffix(f, ".spl") + ".csv"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("%s:\ngot\n%s\nwant\n%s", f, got, want)
			}
		})
	}
}

func runReport(t *testing.T, src string) string {
	res, err := Collect(context.Background(), src, testEnv(t))
	if err != nil {
		return "error: " + err.Error() + "\n"
	}
	var buf bytes.Buffer
	if len(res.Fields) > 0 {
		if err := WriteCSV(&buf, res.Fields, res.Rows); err != nil {
			t.Fatal(err)
		}
	}
	for _, m := range res.Messages {
		buf.WriteString("# " + m + "\n")
	}
	return buf.String()
}
