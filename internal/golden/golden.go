// Package golden runs golden-file tests: every input file a glob matches
// under testdata/ is turned into a report that must equal the file beside
// it with the golden extension. `go test -update` rewrites those files.
package golden

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// Run runs a subtest for each file matching glob (such as
// testdata/parse/*.spl), named for the file without its extension, that
// compares report(t, the file's contents) with the file of the same name
// ending in ext (such as ".golden").
func Run(t *testing.T, glob, ext string, report func(t *testing.T, src string) string) {
	t.Helper()
	files, err := filepath.Glob(glob)
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden inputs match %s: %v", glob, err)
	}
	for _, f := range files {
		base := strings.TrimSuffix(f, filepath.Ext(f))
		t.Run(filepath.Base(base), func(t *testing.T) {
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			got := report(t, string(src))
			golden := base + ext
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
