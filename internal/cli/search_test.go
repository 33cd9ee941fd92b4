package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dockyard/dockyard/internal/access"
	"github.com/dockyard/dockyard/internal/server/servertest"
)

// loginVars logs user in with the CLI and returns the environment of
// their later commands.
func loginVars(t *testing.T, h *servertest.Harness, user, password string) map[string]string {
	t.Helper()
	vars := map[string]string{
		"DOCKYARD_SERVER":     h.Srv.URL(),
		"DOCKYARD_CA_FILE":    h.Srv.CAFile(),
		"DOCKYARD_CONFIG_DIR": t.TempDir(),
	}
	if _, e, code := run(t, vars, password+"\n", "login", "--user", user, "--password-stdin"); code != 0 {
		t.Fatalf("login %s: %s", user, e)
	}
	return vars
}

func TestSearchCommand(t *testing.T) {
	h := servertest.Start(t)
	admin := loginVars(t, h, "admin", servertest.AdminPassword)

	// -o json prints exactly {"results": [...], "messages": [...]}.
	out, e, code := run(t, admin, "", "search", "| makeresults count=10 | streamstats count as i | eval s = i % 3 | stats count by s", "-o", "json")
	if code != 0 {
		t.Fatalf("search: %s", e)
	}
	var doc map[string]json.RawMessage
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("-o json is not one JSON document: %v\n%s", err, out)
	}
	if len(doc) != 2 || doc["results"] == nil || doc["messages"] == nil {
		t.Fatalf("-o json keys: %s", out)
	}
	var res struct {
		Results  []map[string]string `json:"results"`
		Messages []string            `json:"messages"`
	}
	json.Unmarshal([]byte(out), &res)
	var got []string
	for _, r := range res.Results {
		got = append(got, r["s"]+":"+r["count"])
	}
	if strings.Join(got, " ") != "0:3 1:4 2:3" {
		t.Fatalf("stats count by s: %v", got)
	}

	// -o csv: a header of every field in first-seen order.
	out, e, code = run(t, admin, "", "search", "-o", "csv",
		`| makeresults count=3 | streamstats count as i | eval sq = i * i | eval big = if(i > 2, "yes", null()) | table i sq big`)
	if code != 0 {
		t.Fatalf("csv: %s", e)
	}
	if out != "i,sq,big\n1,1,\n2,4,\n3,9,yes\n" {
		t.Fatalf("csv output:\n%s", out)
	}

	// The default table aligns columns.
	out, _, code = run(t, admin, "", "search", "| makeresults count=2 | streamstats count as number | eval word = if(number = 1, \"one\", \"two\") | table number word")
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if code != 0 || len(lines) != 3 || !strings.HasPrefix(lines[0], "number  word") || lines[1] != "1       one" {
		t.Fatalf("table output:\n%s", out)
	}

	// A syntax error exits non-zero and names the line and column.
	out, e, code = run(t, admin, "", "search", "| makeresults count=3\n| eval x = (1 +")
	if code == 0 || !strings.Contains(e, "line 2, column") || out != "" {
		t.Fatalf("syntax error: code %d, stdout %q, stderr %s", code, out, e)
	}
	_, e, code = run(t, admin, "", "search")
	if code == 0 || !strings.Contains(e, "makeresults") {
		t.Fatalf("no search: %s", e)
	}

	// index=_internal: admins see the audit trail, plain users nothing.
	h.User("plain", access.RoleUser)
	plain := loginVars(t, h, "plain", servertest.UserPassword)
	out, e, code = run(t, admin, "", "search", "-o", "json", "index=_internal login")
	if code != 0 || !strings.Contains(out, `"action": "login"`) {
		t.Fatalf("admin index=_internal login: %s %s", out, e)
	}
	out, e, code = run(t, plain, "", "search", "-o", "json", "index=_internal login")
	if code != 0 || strings.TrimSpace(out) != `{
  "results": [],
  "messages": []
}` {
		t.Fatalf("plain user index=_internal login: %s %s", out, e)
	}
}

func TestLookupsCommands(t *testing.T) {
	h := servertest.Start(t)
	h.User("alice", access.RoleUser, access.RolePower) // power: shares into search
	h.User("bob", access.RoleUser)
	alice := loginVars(t, h, "alice", servertest.UserPassword)
	bob := loginVars(t, h, "bob", servertest.UserPassword)
	dir := t.TempDir()
	file := filepath.Join(dir, "x.csv")
	os.WriteFile(file, []byte("a,b,c\n1,10,x\n3,20,y\n4,40,y\n5,7,x\n"), 0o600)
	bad := filepath.Join(dir, "bad.csv")
	os.WriteFile(bad, []byte("a,b\n1,2\n3,\"4\n"), 0o600)

	_, e, code := run(t, alice, "", "lookups", "upload", bad)
	if code == 0 || !strings.Contains(e, "line 3") {
		t.Fatalf("malformed upload: %s", e)
	}
	out, e, code := run(t, alice, "", "lookups", "upload", file)
	if code != 0 || !strings.Contains(out, "x.csv") {
		t.Fatalf("upload: %s %s", out, e)
	}
	out, _, _ = run(t, alice, "", "lookups", "list", "-o", "json")
	var ls []struct{ Name, Owner, Sharing string }
	if err := json.Unmarshal([]byte(out), &ls); err != nil || len(ls) != 1 || ls[0].Name != "x.csv" || ls[0].Owner != "alice" {
		t.Fatalf("list: %v %s", err, out)
	}

	const spl = "| inputlookup x.csv | where a > 2 | stats avg(b) by c"
	out, e, code = run(t, alice, "", "search", "-o", "csv", spl)
	if code != 0 || out != "c,avg(b)\nx,7\ny,30\n" {
		t.Fatalf("owner's search: %q %s", out, e)
	}
	_, e, code = run(t, bob, "", "search", spl)
	if code == 0 || !strings.Contains(e, "lookup not found: x.csv") {
		t.Fatalf("bob without read permission: %s", e)
	}
	if out, _, _ := run(t, bob, "", "lookups", "list", "-o", "json"); strings.TrimSpace(out) != "[]" {
		t.Fatalf("bob's list: %s", out)
	}

	if _, e, code := run(t, alice, "", "lookups", "share", "x.csv", "--sharing", "app", "--read", "user"); code != 0 {
		t.Fatalf("share: %s", e)
	}
	out, e, code = run(t, bob, "", "lookups", "show", "x.csv", "-o", "json")
	if code != 0 || !strings.Contains(out, `"sharing": "app"`) || !strings.Contains(out, `"read": true`) {
		t.Fatalf("bob's show after sharing: %s %s", out, e)
	}
	if out, _, code := run(t, bob, "", "lookups", "show", "x.csv", "--content"); code != 0 || !strings.HasPrefix(out, "a,b,c\n1,10,x") {
		t.Fatalf("show --content: %s", out)
	}
	if _, e, code := run(t, bob, "", "lookups", "delete", "x.csv", "--yes"); code == 0 || !strings.Contains(e, "may not delete") {
		t.Fatalf("bob's delete: %s", e)
	}

	// Messages go to stderr in table output; stdout keeps the rows.
	out, e, code = run(t, alice, "", "search", "| makeresults count=3 | streamstats count as i | table i | outputlookup sq.csv")
	if code != 0 || !strings.Contains(e, "sq.csv") || strings.Contains(out, "sq.csv") || !strings.HasPrefix(out, "i\n1\n") {
		t.Fatalf("outputlookup: stdout %q stderr %q", out, e)
	}

	if _, e, code := run(t, alice, "", "lookups", "delete", "x.csv", "--yes"); code != 0 {
		t.Fatalf("delete: %s", e)
	}
	if _, e, code := run(t, alice, "", "lookups", "show", "x.csv"); code == 0 || !strings.Contains(e, "lookup not found") {
		t.Fatalf("show after delete: %s", e)
	}
}

func TestProgressLine(t *testing.T) {
	var b bytes.Buffer
	now := time.Unix(100, 0)
	p := &progressLine{w: &b, on: true, start: now, nowFor: func() time.Time { return now }}
	p.show(10)
	if b.Len() != 0 {
		t.Fatalf("progress before a second: %q", b.String())
	}
	now = now.Add(2500 * time.Millisecond)
	p.show(1234)
	if b.String() != "\r1234 rows, 2s" {
		t.Fatalf("progress: %q", b.String())
	}
	p.clear()
	if !strings.HasSuffix(b.String(), "\r") {
		t.Fatalf("clear: %q", b.String())
	}
	var off bytes.Buffer
	q := &progressLine{w: &off, start: time.Unix(0, 0)}
	q.show(5)
	q.clear()
	if off.Len() != 0 {
		t.Fatalf("progress shown off a terminal: %q", off.String())
	}
}
