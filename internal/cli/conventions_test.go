package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"runtime/debug"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/dockyard/dockyard/internal/access"
	"github.com/dockyard/dockyard/internal/server/servertest"
)

// mainRun runs Main, the binary's entry point, with the process environment
// holding exactly the client variables of vars, and stdin.
func mainRun(t *testing.T, vars map[string]string, stdin *os.File, args ...string) (string, string, int) {
	t.Helper()
	for _, k := range []string{"DOCKYARD_SERVER", "DOCKYARD_CA_FILE", "DOCKYARD_TOKEN", "DOCKYARD_APP", "DOCKYARD_CONFIG_DIR"} {
		t.Setenv(k, vars[k])
	}
	var out, errb bytes.Buffer
	code := Main(args, stdin, &out, &errb)
	return out.String(), errb.String(), code
}

func devNull(t *testing.T) *os.File {
	t.Helper()
	f, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// TestExitCodes checks each exit code through Main: 0 ok, 1 error, 2 usage,
// 3 not found, 4 not authenticated or forbidden.
func TestExitCodes(t *testing.T) {
	h := servertest.Start(t)
	h.User("bob", access.RoleUser)
	admin := loginVars(t, h, "admin", servertest.AdminPassword)
	bob := loginVars(t, h, "bob", servertest.UserPassword)
	stranger := map[string]string{"DOCKYARD_SERVER": h.Srv.URL(), "DOCKYARD_CA_FILE": h.Srv.CAFile(),
		"DOCKYARD_TOKEN": "dyt_not-a-token", "DOCKYARD_CONFIG_DIR": t.TempDir()}
	none := map[string]string{"DOCKYARD_CONFIG_DIR": t.TempDir()}
	cases := []struct {
		vars map[string]string
		args []string
		code int
		says string // in stderr
	}{
		{none, []string{"version"}, ExitOK, ""},
		{admin, []string{"whoami"}, ExitOK, ""},
		{admin, []string{"indexes", "delete", "main", "--yes"}, ExitError, "built in"},
		{none, []string{"bogus"}, ExitUsage, `unknown command "bogus" for "dockyard"`},
		{none, []string{"modls"}, ExitUsage, "did you mean models?"},
		{none, []string{"models", "bogus"}, ExitUsage, `unknown command "bogus" for "dockyard models"`},
		{none, []string{"hec", "tokens", "lsit"}, ExitUsage, "did you mean list?"},
		{none, []string{"models", "list", "--bogus"}, ExitUsage, "unknown flag: --bogus"},
		{none, []string{"models", "show"}, ExitUsage, "needs the MODEL"},
		{none, []string{"version", "extra"}, ExitUsage, "unknown command"},
		{none, []string{"help", "models", "bogus"}, ExitUsage, `unknown help topic "models bogus"`},
		{none, []string{"help", "models", "list"}, ExitOK, ""},
		{none, []string{"-o", "xml", "version"}, ExitUsage, `output format "xml"`},
		{none, []string{"login", "--user", "admin"}, ExitUsage, "--password-stdin"},
		{admin, []string{"indexes", "delete", "main"}, ExitUsage, "pass --yes"},
		{admin, []string{"models", "show", "nosuch"}, ExitNotFound, "model not found: nosuch"},
		{admin, []string{"lookups", "delete", "nosuch.csv", "--yes"}, ExitNotFound, "nosuch.csv"},
		{stranger, []string{"whoami"}, ExitDenied, ""},
		{bob, []string{"users", "list"}, ExitDenied, "edit_user"},
	}
	for _, c := range cases {
		_, e, code := mainRun(t, c.vars, devNull(t), c.args...)
		if code != c.code || !strings.Contains(e, c.says) {
			t.Errorf("dockyard %s: exit %d, want %d, saying %q; stderr: %s", strings.Join(c.args, " "), code, c.code, c.says, e)
		}
	}

	// help is help.
	if out, _, code := mainRun(t, none, devNull(t), "help", "models", "list"); code != ExitOK || !strings.Contains(out, "dockyard models list [flags]") {
		t.Errorf("dockyard help models list: exit %d, %s", code, out)
	}
	// A command that only groups others prints its help and succeeds.
	out, _, code := mainRun(t, none, devNull(t), "models")
	if code != ExitOK || !strings.Contains(out, "Available Commands") {
		t.Errorf("dockyard models: exit %d, %s", code, out)
	}
	// The exit codes are documented in the root command's help.
	out, _, _ = mainRun(t, none, devNull(t), "--help")
	if !strings.Contains(out, ExitCodesHelp) {
		t.Errorf("dockyard --help does not explain the exit codes:\n%s", out)
	}
}

func TestVersion(t *testing.T) {
	vars := map[string]string{"DOCKYARD_CONFIG_DIR": t.TempDir()}
	out, e, code := mainRun(t, vars, devNull(t), "--version")
	if code != 0 || !strings.HasPrefix(out, "dockyard ") || !strings.Contains(out, "go1.") || strings.Count(out, "\n") != 1 {
		t.Errorf("--version: exit %d, %q %s", code, out, e)
	}
	out, e, code = mainRun(t, vars, devNull(t), "version", "-o", "json")
	var v map[string]any
	if err := json.Unmarshal([]byte(out), &v); code != 0 || err != nil {
		t.Fatalf("version -o json: exit %d, %v, %s %s", code, err, out, e)
	}
	for _, k := range []string{"version", "dirty", "go", "platform"} {
		if _, ok := v[k]; !ok {
			t.Errorf("version -o json has no %q: %s", k, out)
		}
	}
	if out, _, _ := mainRun(t, vars, devNull(t), "version"); !strings.Contains(out, "version ") || !strings.Contains(out, "go1.") {
		t.Errorf("version table:\n%s", out)
	}

	// What the toolchain records of the checkout becomes the version.
	bi := &debug.BuildInfo{GoVersion: "go1.99.1", Main: debug.Module{Version: "v1.2.3"}, Settings: []debug.BuildSetting{
		{Key: "vcs.revision", Value: "0123456789abcdef0123"}, {Key: "vcs.time", Value: "2026-01-02T03:04:05Z"}, {Key: "vcs.modified", Value: "true"},
	}}
	got := versionOf(bi, true)
	if got.Version != "v1.2.3" || got.Revision != "0123456789abcdef0123" || !got.Dirty || got.Go != "go1.99.1" || got.Time == "" {
		t.Errorf("versionOf = %+v", got)
	}
	if s := got.String(); !strings.HasPrefix(s, "dockyard v1.2.3 (0123456789ab, dirty) go1.99.1 ") {
		t.Errorf("version line %q", s)
	}
	if got := versionOf(&debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, true); got.Version != "devel" || got.Dirty {
		t.Errorf("a checkout build = %+v", got)
	}
}

// TestYAMLOutput checks that -o yaml is the JSON answer in YAML: the same
// field names, order and values, strings that look like other types kept
// strings.
func TestYAMLOutput(t *testing.T) {
	type inner struct {
		Flag bool              `json:"flag"`
		List []string          `json:"list"`
		Map  map[string]string `json:"map,omitempty"`
	}
	v := struct {
		Zebra  string  `json:"zebra_name"`
		Number string  `json:"number_text"`
		Yes    string  `json:"yes_text"`
		Multi  string  `json:"multi"`
		Count  int     `json:"count"`
		Ratio  float64 `json:"ratio"`
		Empty  []int   `json:"empty"`
		Null   *inner  `json:"null"`
		Inner  inner   `json:"inner"`
		Hidden string  `json:"-"`
	}{Zebra: "z: <b>&", Number: "0123", Yes: "true", Multi: "line 1\nline 2", Count: 3, Ratio: 0.5,
		Inner: inner{Flag: true, List: []string{"a", "null"}, Map: map[string]string{"k": "v"}}, Hidden: "x"}
	var buf bytes.Buffer
	if err := writeYAML(&buf, v); err != nil {
		t.Fatal(err)
	}
	var fromYAML, fromJSON any
	if err := yaml.Unmarshal(buf.Bytes(), &fromYAML); err != nil {
		t.Fatalf("not YAML: %v\n%s", err, buf.String())
	}
	b, _ := json.Marshal(v)
	json.Unmarshal(b, &fromJSON)
	// YAML integers decode as int, JSON numbers as float64: compare via JSON.
	yb, _ := json.Marshal(fromYAML)
	var yj any
	json.Unmarshal(yb, &yj)
	if !reflect.DeepEqual(yj, fromJSON) {
		t.Errorf("YAML differs from JSON:\n%s\nwant %s", buf.String(), b)
	}
	out := buf.String()
	if !strings.HasPrefix(out, "zebra_name:") || strings.Index(out, "count:") > strings.Index(out, "inner:") {
		t.Errorf("YAML does not keep the JSON order:\n%s", out)
	}
	if strings.Contains(out, "Hidden") || strings.Contains(out, "{") {
		t.Errorf("YAML has Go names or flow style:\n%s", out)
	}

	// A real command: whoami -o yaml is whoami -o json.
	h := servertest.Start(t)
	admin := loginVars(t, h, "admin", servertest.AdminPassword)
	jout, _, _ := run(t, admin, "", "whoami", "-o", "json")
	yout, e, code := run(t, admin, "", "whoami", "-o", "yaml")
	var wj, wy map[string]any
	json.Unmarshal([]byte(jout), &wj)
	if err := yaml.Unmarshal([]byte(yout), &wy); code != 0 || err != nil || !reflect.DeepEqual(wj, wy) || wy["user"] != "admin" {
		t.Errorf("whoami -o yaml = %v (%v, %s), want %v", wy, err, e, wj)
	}
	// Search results too.
	// _time is fixed: the two runs may fall in different seconds.
	const q = "| makeresults count=2 | streamstats count as i | eval _time = 1700000000"
	jout, _, _ = run(t, admin, "", "search", q, "-o", "json")
	yout, e, code = run(t, admin, "", "search", q, "-o", "yaml")
	var sj, sy map[string]any
	json.Unmarshal([]byte(jout), &sj)
	yaml.Unmarshal([]byte(yout), &sy)
	if code != 0 || sy["results"] == nil || fmt.Sprint(sj) != fmt.Sprint(sy) {
		t.Errorf("search -o yaml = %v (%s), want %v", sy, e, sj)
	}
	// Commands that print a sentence print the object instead.
	if _, e, code := run(t, admin, "", "indexes", "create", "web"); code != 0 {
		t.Fatalf("indexes create: %s", e)
	}
	yout, e, code = run(t, admin, "", "indexes", "delete", "web", "--yes", "-o", "yaml")
	if code != 0 || strings.TrimSpace(yout) != "deleted: web" {
		t.Errorf("indexes delete -o yaml: %d %q %s", code, yout, e)
	}
}

// TestFileFlag checks that files go through --file and that -o, the output
// format, is not taken for a file.
func TestFileFlag(t *testing.T) {
	h := servertest.Start(t)
	admin := loginVars(t, h, "admin", servertest.AdminPassword)
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "w.bin"), []byte("weights"), 0o644)
	if _, e, code := run(t, admin, "", "models", "import", "m", "--file", dir); code != 0 {
		t.Fatalf("models import --file DIR: %s", e)
	}
	tarFile := filepath.Join(t.TempDir(), "m.tar")
	for _, args := range [][]string{
		{"models", "export", "m", "-o", tarFile},
		{"audit", "export", "-o", tarFile},
	} {
		_, e, code := run(t, admin, "", args...)
		if code != ExitUsage || !strings.Contains(e, "--file "+tarFile) {
			t.Errorf("%v: exit %d, %s", args, code, e)
		}
	}
	if _, err := os.Stat(tarFile); err == nil {
		t.Fatalf("-o FILE wrote %s", tarFile)
	}
	_, e, code := run(t, admin, "", "models", "export", "m", "-o", "json")
	if code != ExitUsage || !strings.Contains(e, "needs --file") {
		t.Errorf("models export -o json without --file: exit %d, %s", code, e)
	}
	out, e, code := run(t, admin, "", "models", "export", "m", "--file", tarFile, "-o", "json")
	var res struct {
		File    string `json:"file"`
		Version int    `json:"version"`
	}
	if err := json.Unmarshal([]byte(out), &res); code != 0 || err != nil || res.File != tarFile || res.Version != 1 {
		t.Errorf("models export --file -o json: exit %d, %q %s", code, out, e)
	}
	auditFile := filepath.Join(t.TempDir(), "audit.jsonl")
	if _, e, code := run(t, admin, "", "audit", "export", "--file", auditFile); code != 0 {
		t.Errorf("audit export --file: %s", e)
	}
	if out, e, code := run(t, admin, "", "audit", "verify", "--file", auditFile); code != 0 || !strings.HasPrefix(out, "ok") {
		t.Errorf("audit verify of the export: %s %s", out, e)
	}

	// Uploads take --file, or the file as their argument, not both.
	csvFile := filepath.Join(t.TempDir(), "t.csv")
	os.WriteFile(csvFile, []byte("a,b\n1,2\n"), 0o644)
	if _, e, code := run(t, admin, "", "lookups", "upload", "--file", csvFile); code != 0 {
		t.Errorf("lookups upload --file: %s", e)
	}
	if _, e, code := run(t, admin, "", "lookups", "upload", csvFile, "--name", "u.csv"); code != 0 {
		t.Errorf("lookups upload FILE: %s", e)
	}
	if _, e, code := run(t, admin, "", "lookups", "upload", csvFile, "--file", csvFile); code != ExitUsage || !strings.Contains(e, "not both") {
		t.Errorf("lookups upload FILE --file FILE: exit %d, %s", code, e)
	}
	if _, e, code := run(t, admin, "", "notebooks", "push"); code != ExitUsage || !strings.Contains(e, "needs --file") {
		t.Errorf("notebooks push without a file: exit %d, %s", code, e)
	}
	nb := filepath.Join(t.TempDir(), "algo.py")
	os.WriteFile(nb, []byte("def fit(df, param):\n    return {}\n"), 0o644)
	if _, e, code := run(t, admin, "", "notebooks", "push", "--file", nb); code != 0 {
		t.Errorf("notebooks push --file: %s", e)
	}
}

// TestInterruptedExits130: a command cut short by Ctrl-C (its context
// cancelled by the signal) exits 130 and says it was interrupted.
func TestInterruptedExits130(t *testing.T) {
	h := servertest.Start(t)
	admin := loginVars(t, h, "admin", servertest.AdminPassword)
	var out, errb bytes.Buffer
	env := &Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb,
		Getenv: func(k string) string { return admin[k] }, Environ: func() []string { return nil }}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if code := env.Run(ctx, []string{"whoami"}); code != ExitInterrupted || !strings.Contains(errb.String(), "interrupted") {
		t.Errorf("whoami with its context cancelled: exit %d, stderr %q; want %d saying interrupted", code, errb.String(), ExitInterrupted)
	}
	// Not interrupted, the same command succeeds.
	if _, e, code := run(t, admin, "", "whoami"); code != ExitOK {
		t.Errorf("whoami: exit %d: %s", code, e)
	}
}
