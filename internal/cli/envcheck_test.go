package cli

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// A misspelt name is written "DOCKYARD_" + "..." in these tests so that
// TestEnvKnownCoversTree does not read it as a variable of the tree.

func TestUnknownEnvWarned(t *testing.T) {
	got := unknownEnv([]string{
		"DOCKYARD_" + "SEVER=https://x", "DOCKYARD_SERVER=https://x", "DOCKYARD_AUTH_SESSION_TTL=1h",
		"DOCKYARD_" + "AUTH_SESION_TTL=1h", "DOCKYARD_" + "FROBNICATE=1", "DOCKYARD_TEST_MAIN=1",
		"DOCKYARD_BENCH_MODELS=1", "DOCKYARD_OTEL_ENDPOINT=x", "PATH=/bin", "DOCKYARD_" + "X=1",
	})
	want := []string{
		"DOCKYARD_" + "AUTH_SESION_TTL is not a Dockyard setting; did you mean DOCKYARD_AUTH_SESSION_TTL?",
		"DOCKYARD_" + "FROBNICATE is not a Dockyard setting (see docs/configuration.md)",
		"DOCKYARD_" + "SEVER is not a Dockyard setting; did you mean DOCKYARD_SERVER?",
		"DOCKYARD_" + "X is not a Dockyard setting (see docs/configuration.md)",
	}
	if !slices.Equal(got, want) {
		t.Errorf("unknownEnv =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestMainWarnsAboutUnknownEnv runs Main, which reads the process
// environment, and checks the warning is on stderr and the command still
// runs.
func TestMainWarnsAboutUnknownEnv(t *testing.T) {
	t.Setenv("DOCKYARD_"+"SEVER", "https://127.0.0.1:1")
	var out, errb bytes.Buffer
	code := Main([]string{"server", "--help"}, strings.NewReader(""), &out, &errb)
	want := "warning: DOCKYARD_" + "SEVER is not a Dockyard setting; did you mean DOCKYARD_SERVER?\n"
	if code != 0 || !strings.HasPrefix(errb.String(), "warning: ") || !strings.Contains(errb.String(), want) || !strings.Contains(out.String(), "--data") {
		t.Errorf("Main = %d, stderr %q, stdout %q; want 0, %q and the help", code, errb.String(), out.String(), want)
	}
}

// TestEnvKnownCoversTree fails when the repository names a DOCKYARD_*
// variable that the warning would call unknown: add it to knownEnv (or, for
// a test-only one, use a prefix of testEnvPrefixes). Lines quoting the
// warning itself are skipped.
func TestEnvKnownCoversTree(t *testing.T) {
	re := regexp.MustCompile(`DOCKYARD_[A-Z0-9_]+`) // those ending in _ are prefixes
	known := knownEnvVars()
	seen := map[string]string{}
	err := filepath.WalkDir(filepath.Join("..", ".."), func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if strings.HasPrefix(d.Name(), ".") && d.Name() != ".ci" && path != filepath.Join("..", "..") || d.Name() == "testdata" {
				return filepath.SkipDir
			}
			return nil
		}
		switch filepath.Ext(path) {
		case ".go", ".md", ".sh", ".yml", ".yaml", ".py", "":
		default:
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, line := range strings.Split(string(b), "\n") {
			if strings.Contains(line, "is not a Dockyard setting") {
				continue // an example of the warning, misspelt on purpose
			}
			for _, name := range re.FindAllString(line, -1) {
				if _, ok := seen[name]; !ok && !strings.HasSuffix(name, "_") {
					seen[name] = path
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(seen) < 20 {
		t.Fatalf("found only %d DOCKYARD_* names in the tree; is the walk wrong?", len(seen))
	}
	for name, path := range seen {
		if !slices.Contains(known, name) && !testEnv(name) {
			t.Errorf("%s (named in %s) is not in knownEnv (internal/cli/envcheck.go): a user setting it would be warned", name, path)
		}
	}
}
