package server_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dockyard/dockyard/internal/access"
	"github.com/dockyard/dockyard/internal/cli"
	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/index"
	"github.com/dockyard/dockyard/internal/server/servertest"
	"github.com/dockyard/dockyard/internal/wire"
)

// cliRun runs the dockyard command line against h with token and returns
// stdout, stderr and the exit code.
func cliRun(t *testing.T, h *servertest.Harness, token string, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	args = append(args, "--server", h.Srv.URL(), "--ca-file", h.Srv.CAFile(), "--config-dir", t.TempDir())
	if token != "" {
		args = append(args, "--token", token)
	}
	code := cli.Main(args, strings.NewReader(""), &out, &errb)
	return out.String(), errb.String(), code
}

// adminToken mints an admin API token for the CLI.
func adminToken(t *testing.T, h *servertest.Harness) string {
	t.Helper()
	tok, err := h.Srv.AdminToken(context.Background(), "cli-test", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// userToken creates a user with roles and returns a session token.
func userToken(t *testing.T, h *servertest.Harness, name string, roles ...string) string {
	t.Helper()
	h.User(name, roles...)
	res, err := h.Client("").Login(context.Background(), name, servertest.UserPassword)
	if err != nil {
		t.Fatal(err)
	}
	return res.Token
}

// exportedEvent is an event line of an audit export.
type exportedEvent struct {
	Seq   int64 `json:"seq"`
	Event struct {
		User    string         `json:"user"`
		Action  string         `json:"action"`
		Object  string         `json:"object"`
		Result  string         `json:"result"`
		Message string         `json:"message"`
		Details map[string]any `json:"details"`
	} `json:"event"`
}

// auditEvents exports the audit chain as admin and returns its events.
func auditEvents(t *testing.T, h *servertest.Harness) []exportedEvent {
	t.Helper()
	var buf bytes.Buffer
	if err := h.Admin.AuditExport(context.Background(), &buf); err != nil {
		t.Fatalf("audit export: %v", err)
	}
	return parseExport(t, buf.Bytes())
}

// parseExport returns the events of an audit export.
func parseExport(t *testing.T, export []byte) []exportedEvent {
	t.Helper()
	var out []exportedEvent
	sc := bufio.NewScanner(bytes.NewReader(export))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var l struct{ Type string }
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("export line %q: %v", sc.Text(), err)
		}
		if l.Type != "event" {
			continue
		}
		var e exportedEvent
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatal(err)
		}
		out = append(out, e)
	}
	return out
}

func findEvent(evs []exportedEvent, user, action, result string) *exportedEvent {
	for i := range evs {
		e := &evs[i]
		if e.Event.User == user && e.Event.Action == action && e.Event.Result == result {
			return e
		}
	}
	return nil
}

func TestAuditVerifyExportOfflineAndTamper(t *testing.T) {
	h := servertest.Start(t)
	ctx := context.Background()
	admin := adminToken(t, h)
	userToken(t, h, "bob", access.RoleUser) // a login: audited
	if _, err := h.Admin.CreateIndex(ctx, "web"); err != nil {
		t.Fatal(err)
	}
	if _, err := h.Admin.CreateHECToken(ctx, wire.HECTokenRequest{Name: "ci", Indexes: []string{"web"}}); err != nil {
		t.Fatal(err)
	}

	v, err := h.Admin.AuditVerify(ctx)
	if err != nil || !v.OK || v.Events < 4 || v.Message != fmt.Sprintf("ok: %d events", v.Events) {
		t.Fatalf("audit verify: %+v %v", v, err)
	}
	out, e, code := cliRun(t, h, admin, "audit", "verify")
	if code != 0 || !strings.HasPrefix(out, "ok: ") || !strings.HasSuffix(out, " events\n") {
		t.Fatalf("audit verify: code %d, %q %q", code, out, e)
	}

	dir := t.TempDir()
	file, keyFile := filepath.Join(dir, "audit.jsonl"), filepath.Join(dir, "audit.pem")
	if _, e, code := cliRun(t, h, admin, "audit", "export", "--file", file); code != 0 {
		t.Fatalf("audit export: %s", e)
	}
	if fi, err := os.Stat(file); err != nil || fi.Mode().Perm()&0o077 != 0 {
		t.Fatalf("export file: %v %v (want owner-only)", fi, err)
	}
	pem, e, code := cliRun(t, h, admin, "audit", "key")
	if code != 0 || !strings.Contains(pem, "BEGIN PUBLIC KEY") {
		t.Fatalf("audit key: %s %s", pem, e)
	}
	if err := os.WriteFile(keyFile, []byte(pem), 0o600); err != nil {
		t.Fatal(err)
	}

	// Offline: the server is stopped, so a contact would fail.
	h.Stop()
	out, e, code = cliRun(t, h, "", "audit", "verify", "--file", file, "--key", keyFile)
	if code != 0 || !strings.HasPrefix(out, "ok: ") || strings.Contains(e, "warning") {
		t.Fatalf("offline verify with key: code %d, %q %q", code, out, e)
	}
	out, e, code = cliRun(t, h, "", "audit", "verify", "--file", file)
	if code != 0 || !strings.HasPrefix(out, "ok: ") || !strings.Contains(e, "warning") || !strings.Contains(e, "consistent with itself") {
		t.Fatalf("offline verify without key: code %d, %q %q", code, out, e)
	}

	// Edit one field of one event in the file.
	lines := strings.Split(strings.TrimRight(readFile(t, file), "\n"), "\n")
	var seq int64
	for i, l := range lines {
		var ev map[string]any
		if err := json.Unmarshal([]byte(l), &ev); err != nil {
			t.Fatal(err)
		}
		if ev["type"] != "event" || ev["seq"].(float64) < 2 {
			continue
		}
		seq = int64(ev["seq"].(float64))
		ev["event"].(map[string]any)["user"] = "mallory"
		b, _ := json.Marshal(ev)
		lines[i] = string(b)
		break
	}
	if seq == 0 {
		t.Fatal("no event to tamper with in the export")
	}
	tampered := filepath.Join(dir, "tampered.jsonl")
	if err := os.WriteFile(tampered, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, e, code = cliRun(t, h, "", "audit", "verify", "--file", tampered, "--key", keyFile)
	if code == 0 || !strings.Contains(e, fmt.Sprintf("seq %d:", seq)) || strings.HasPrefix(out, "ok") {
		t.Fatalf("tampered export: want a failure naming seq %d, got code %d, %q %q", seq, code, out, e)
	}
	out, _, code = cliRun(t, h, "", "audit", "verify", "--file", tampered, "--key", keyFile, "-o", "json")
	var res wire.AuditVerify
	if code == 0 || json.Unmarshal([]byte(out), &res) != nil || res.OK || res.Seq != seq {
		t.Fatalf("tampered export -o json: code %d %q", code, out)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestAuditVerifyFindsTamperingInTheStore(t *testing.T) {
	h := servertest.Start(t)
	admin := adminToken(t, h)
	userToken(t, h, "bob", access.RoleUser)
	ev := findEvent(auditEvents(t, h), "bob", "login", "success")
	if ev == nil {
		t.Fatal("bob's login is not in the audit chain")
	}
	if _, err := h.Srv.SQLite().SQL().Exec(`UPDATE audit_chain SET body = replace(body, '"user":"bob"', '"user":"mallory"') WHERE seq = ?`, ev.Seq); err != nil {
		t.Fatal(err)
	}
	v, err := h.Admin.AuditVerify(context.Background())
	if err != nil || v.OK || v.Seq != ev.Seq || v.Reason == "" {
		t.Fatalf("verify after tampering with seq %d: %+v %v", ev.Seq, v, err)
	}
	out, e, code := cliRun(t, h, admin, "audit", "verify")
	if code == 0 || !strings.Contains(e, fmt.Sprintf("seq %d:", ev.Seq)) || out != "" {
		t.Fatalf("CLI verify after tampering: code %d, %q %q", code, out, e)
	}
}

func TestAuditNeedsReadAuditAndRefusalsAreAudited(t *testing.T) {
	h := servertest.Start(t)
	ctx := context.Background()
	bob := h.User("bob", access.RoleUser)
	for name, call := range map[string]func() error{
		"verify": func() error { _, err := bob.AuditVerify(ctx); return err },
		"export": func() error { return bob.AuditExport(ctx, io.Discard) },
		"key":    func() error { _, err := bob.AuditKey(ctx); return err },
	} {
		if err := call(); !errdefs.IsPermissionDenied(err) || !strings.Contains(err.Error(), "read_audit") {
			t.Errorf("audit %s as a user: want 403 naming read_audit, got %v", name, err)
		}
	}
	_, e, code := cliRun(t, h, userToken(t, h, "bob", access.RoleUser), "audit", "verify")
	if code == 0 || !strings.Contains(e, "read_audit") {
		t.Errorf("CLI audit verify as a user: code %d %s", code, e)
	}
	evs := auditEvents(t, h)
	for _, action := range []string{"audit.verify", "audit.export", "audit.key"} {
		if findEvent(evs, "bob", action, "denied") == nil {
			t.Errorf("the refused %s is not in the audit chain with result denied", action)
		}
	}
	// An export is audited once it is complete, so the next export has it.
	if findEvent(auditEvents(t, h), "admin", "audit.export", "success") == nil {
		t.Error("the admin's export is not audited")
	}
}

// tlsConfig trusts the server's CA.
func tlsConfig(t *testing.T, h *servertest.Harness) *tls.Config {
	t.Helper()
	pem, err := os.ReadFile(h.Srv.CAFile())
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		t.Fatal("no CA certificate in " + h.Srv.CAFile())
	}
	return &tls.Config{RootCAs: pool}
}

// hecPost sends body to the collector over the server's HTTPS.
func hecPost(t *testing.T, h *servertest.Harness, path, token, body string) (int, index.HECReply) {
	t.Helper()
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: tlsConfig(t, h)}}
	req, _ := http.NewRequest("POST", h.Srv.URL()+path, strings.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Splunk "+token)
	}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var rep index.HECReply
	if err := json.NewDecoder(resp.Body).Decode(&rep); err != nil {
		t.Fatalf("HEC answer: %v", err)
	}
	return resp.StatusCode, rep
}

func TestHECTokensIngestAndSearch(t *testing.T) {
	h := servertest.Start(t)
	ctx := context.Background()
	admin := adminToken(t, h)
	if _, e, code := cliRun(t, h, admin, "indexes", "create", "web"); code != 0 {
		t.Fatalf("indexes create: %s", e)
	}
	out, e, code := cliRun(t, h, admin, "hec", "tokens", "create", "ci", "--index", "web", "-o", "json")
	if code != 0 {
		t.Fatalf("hec tokens create: %s", e)
	}
	var nt wire.NewHECToken
	if err := json.Unmarshal([]byte(out), &nt); err != nil || nt.Name != "ci" || nt.Token == "" || len(nt.Indexes) != 1 || nt.Indexes[0] != "web" {
		t.Fatalf("hec tokens create -o json: %v %q", err, out)
	}

	status, rep := hecPost(t, h, "/services/collector/event", nt.Token,
		`{"event": "deploy finished", "sourcetype": "ci"} {"event": {"msg": "deploy started"}, "time": 1700000000}`)
	if status != 200 || rep.Code != index.HECSuccess || rep.Text != "Success" {
		t.Fatalf("HEC post: %d %+v", status, rep)
	}
	status, rep = hecPost(t, h, "/services/collector/event", nt.Token, `{"event": "wrong place", "index": "main"}`)
	if status != 400 || rep.Code != index.HECIncorrectIndex {
		t.Fatalf("HEC post to an index the token may not write: %d %+v", status, rep)
	}

	p, err := h.Srv.Access().EffectivePrincipal(ctx, access.AdminUser, "")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for ev, err := range h.Srv.Index().Search(access.WithPrincipal(ctx, p), index.Query{Indexes: []string{"web"}, Terms: []string{"deploy"}}) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, ev.Raw)
	}
	if len(got) != 2 {
		t.Fatalf("search index=web deploy: %q", got)
	}

	// Lists never show the secret, only its last four characters.
	out, _, code = cliRun(t, h, admin, "hec", "tokens", "list", "-o", "json")
	var ts []wire.HECToken
	if code != 0 || json.Unmarshal([]byte(out), &ts) != nil || len(ts) != 1 || ts[0].Last4 != nt.Token[len(nt.Token)-4:] ||
		strings.Contains(out, nt.Token) || ts[0].Creator != "admin" {
		t.Fatalf("hec tokens list: %q", out)
	}
	if _, e, code := cliRun(t, h, admin, "hec", "tokens", "disable", "ci"); code != 0 {
		t.Fatalf("disable: %s", e)
	}
	if status, rep := hecPost(t, h, "/services/collector/event", nt.Token, `{"event": "x"}`); status != 403 || rep.Code != index.HECTokenDisabled {
		t.Fatalf("disabled token: %d %+v", status, rep)
	}
	if _, e, code := cliRun(t, h, admin, "hec", "tokens", "enable", "ci"); code != 0 {
		t.Fatalf("enable: %s", e)
	}
	if status, _ := hecPost(t, h, "/services/collector/event", nt.Token, `{"event": "x"}`); status != 200 {
		t.Fatalf("re-enabled token: %d", status)
	}
	if _, e, code := cliRun(t, h, admin, "hec", "tokens", "delete", "ci", "--yes"); code != 0 {
		t.Fatalf("delete: %s", e)
	}
	if status, rep := hecPost(t, h, "/services/collector/event", nt.Token, `{"event": "x"}`); status != 403 || rep.Code != index.HECInvalidToken {
		t.Fatalf("deleted token: %d %+v", status, rep)
	}

	evs := auditEvents(t, h)
	for _, action := range []string{"index.create", "hec_token.create", "hec_token.disable", "hec_token.enable", "hec_token.delete"} {
		if findEvent(evs, "admin", action, "success") == nil {
			t.Errorf("%s is not audited", action)
		}
	}
}

func TestIndexesListShowsOnlyReadable(t *testing.T) {
	h := servertest.Start(t)
	ctx := context.Background()
	if _, err := h.Admin.CreateIndex(ctx, "web"); err != nil {
		t.Fatal(err)
	}
	if _, err := h.Admin.CreateIndex(ctx, "web"); !errdefs.IsConflict(err) {
		t.Errorf("creating an index twice: want a conflict, got %v", err)
	}
	if _, err := h.Admin.CreateIndex(ctx, "Bad Name"); !errdefs.IsInvalid(err) {
		t.Errorf("a bad index name: want invalid, got %v", err)
	}
	names := func(is []wire.Index) string {
		var n []string
		for _, i := range is {
			n = append(n, i.Name)
		}
		return strings.Join(n, ",")
	}
	all, err := h.Admin.Indexes(ctx)
	if err != nil || names(all) != "_internal,main,web" {
		t.Fatalf("admin's indexes: %q %v", names(all), err)
	}
	bob := userToken(t, h, "bob", access.RoleUser)
	out, e, code := cliRun(t, h, bob, "indexes", "list", "-o", "json")
	var is []wire.Index
	if code != 0 || json.Unmarshal([]byte(out), &is) != nil || names(is) != "main" {
		t.Fatalf("a user's indexes: code %d %q %s", code, out, e)
	}
	if _, e, code := cliRun(t, h, bob, "indexes", "create", "mine"); code == 0 || !strings.Contains(e, "edit_indexes") {
		t.Errorf("a user creating an index: code %d %s", code, e)
	}
	if err := h.Admin.DeleteIndex(ctx, "main"); err == nil {
		t.Error("deleting main succeeded")
	}
	if err := h.Admin.DeleteIndex(ctx, "web"); err != nil {
		t.Fatal(err)
	}
	if err := h.Admin.DeleteIndex(ctx, "web"); !errdefs.IsNotFound(err) {
		t.Errorf("deleting a deleted index: want not found, got %v", err)
	}
}
