package search

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/dockyard/dockyard/internal/golden"
)

// TestPipelineGolden runs every testdata/pipeline/*.spl against the test
// lookups and events and compares the CSV output (then any messages, or the
// error) with NAME.csv.
func TestPipelineGolden(t *testing.T) {
	golden.Run(t, "testdata/pipeline/*.spl", ".csv", func(t *testing.T, src string) string {
		return runReport(t, strings.TrimSpace(src))
	})
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
