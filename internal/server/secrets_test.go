package server_test

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dockyard/dockyard/internal/server/servertest"
	"github.com/dockyard/dockyard/internal/telemetry/telemetrytest"
	"github.com/dockyard/dockyard/internal/wire"
)

// transcript sends API and HEC requests and keeps every answer (status
// line, headers and body) but the creation answers that must show a secret.
type transcript struct {
	t       *testing.T
	h       *servertest.Harness
	hc      *http.Client
	answers bytes.Buffer
}

// call sends body (JSON-encoded unless it is a string) with the
// Authorization header auth and returns the answer's body. keep=false
// leaves the answer out of the transcript (a creation answer).
func (tr *transcript) call(method, path, auth string, body any, keep bool) (int, []byte) {
	tr.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			tr.t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, tr.h.Srv.URL()+path, rd)
	if err != nil {
		tr.t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := tr.hc.Do(req)
	if err != nil {
		tr.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		tr.t.Fatal(err)
	}
	if keep {
		// The request line without its query: the query may carry a secret
		// this test sent on purpose; only the answer is under test.
		fmt.Fprintf(&tr.answers, "%s %s -> %s\n", method, req.URL.Path, resp.Status)
		resp.Header.Write(&tr.answers)
		tr.answers.Write(out)
		tr.answers.WriteString("\n")
	}
	return resp.StatusCode, out
}

// mustCall is call that fails the test on a status other than want.
func (tr *transcript) mustCall(want int, method, path, auth string, body any, keep bool) []byte {
	tr.t.Helper()
	status, out := tr.call(method, path, auth, body, keep)
	if status != want {
		tr.t.Fatalf("%s %s: status %d, want %d: %s", method, path, status, want, out)
	}
	return out
}

// dataDirKeys returns the private keys under the data dir (PEM bodies,
// their lines, and the hex of the key bytes) and the content of any other
// key file.
func dataDirKeys(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		found := false
		for rest := b; ; {
			var blk *pem.Block
			blk, rest = pem.Decode(rest)
			if blk == nil {
				break
			}
			if !strings.Contains(blk.Type, "PRIVATE KEY") {
				continue
			}
			found = true
			enc := base64.StdEncoding.EncodeToString(blk.Bytes)
			out = append(out, enc, hex.EncodeToString(blk.Bytes))
			for i := 0; i+64 <= len(enc); i += 64 {
				out = append(out, enc[i:i+64])
			}
		}
		if !found && strings.Contains(d.Name(), "key") && !strings.HasSuffix(d.Name(), ".db") {
			if s := strings.TrimSpace(string(b)); len(s) >= 16 {
				out = append(out, s)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out) == 0 {
		t.Fatal("found no private key in the data dir: the test would check nothing")
	}
	return out
}

// TestNoSecretLeaks scripts a session that creates each kind of secret
// (a password, a changed password, a session token, an API token, a HEC
// token, and the server's keys) and uses them, rightly and wrongly; then it
// checks that none of them appears in the audit chain (export), in the
// server's log, or in any API answer but the one that created it.
func TestNoSecretLeaks(t *testing.T) {
	logs := &telemetrytest.LogBuffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	h := servertest.StartWith(t, servertest.Config(t.TempDir()), log)
	tr := &transcript{t: t, h: h, hc: newHTTPClient(t, h)}
	adminSecret := adminToken(t, h)
	admin := "Bearer " + adminSecret

	const (
		password      = "carol-Secret-Passw0rd-1"
		newPassword   = "carol-Changed-Passw0rd-2"
		wrongPassword = "carol-Wrong-Passw0rd-3"
		bogusBearer   = "dyt_bogusbogusbogusbogusbogus1234"
		bogusHEC      = "0badc0de-1111-4222-8333-944445555666"
	)
	roles := []string{"user"}
	tr.mustCall(201, "POST", "/v1/users", admin, wire.UserRequest{Name: "carol", Password: ptr(password), Roles: &roles}, true)
	tr.mustCall(401, "POST", "/v1/login", "", wire.LoginRequest{User: "carol", Password: wrongPassword}, true)

	var login wire.LoginResponse
	created := tr.mustCall(200, "POST", "/v1/login", "", wire.LoginRequest{User: "carol", Password: password}, false)
	decodeJSON(t, created, &login)
	shownOnce(t, "the login answer", created, login.Token)
	session := "Bearer " + login.Token

	var apiTok wire.NewToken
	created = tr.mustCall(201, "POST", "/v1/tokens", session, wire.TokenRequest{Name: "ci"}, false)
	decodeJSON(t, created, &apiTok)
	shownOnce(t, "the token creation answer", created, apiTok.Token)
	tr.mustCall(200, "GET", "/v1/whoami", "Bearer "+apiTok.Token, nil, true)
	tr.mustCall(200, "GET", "/v1/tokens", session, nil, true)
	tr.mustCall(401, "GET", "/v1/whoami", "Bearer "+bogusBearer, nil, true)
	tr.mustCall(403, "GET", "/v1/audit/export", session, nil, true)
	tr.mustCall(200, "POST", "/v1/logout", session, nil, true)

	tr.mustCall(200, "PATCH", "/v1/users/carol", admin, wire.UserRequest{Password: ptr(newPassword)}, true)

	var hec wire.NewHECToken
	created = tr.mustCall(201, "POST", "/v1/hec/tokens", admin, wire.HECTokenRequest{Name: "ingest", Indexes: []string{"main"}}, false)
	decodeJSON(t, created, &hec)
	shownOnce(t, "the HEC token creation answer", created, hec.Token)
	tr.mustCall(200, "POST", "/services/collector/event", "Splunk "+hec.Token, `{"event": "hello from the secrets test"}`, true)
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte("x:"+hec.Token))
	tr.mustCall(200, "POST", "/services/collector/raw", basic, "raw line from the secrets test\n", true)
	tr.mustCall(403, "POST", "/services/collector/event", "Splunk "+bogusHEC, `{"event": "x"}`, true)
	tr.call("POST", "/services/collector/event?token="+hec.Token, "", `{"event": "x"}`, true)
	tr.mustCall(400, "POST", "/services/collector/event", "Splunk "+hec.Token, `{"event": "x", "index": "_internal"}`, true)

	tr.mustCall(200, "GET", "/v1/hec/tokens", admin, nil, true)
	tr.mustCall(200, "GET", "/v1/users", admin, nil, true)
	tr.mustCall(200, "GET", "/v1/tokens?all=true", admin, nil, true)
	tr.mustCall(200, "GET", "/v1/audit/key", admin, nil, true)
	tr.mustCall(200, "GET", "/v1/audit/verify", admin, nil, true)
	export := tr.mustCall(200, "GET", "/v1/audit/export", admin, nil, true)

	h.Stop() // the shutdown's log lines count too
	secrets := map[string]string{
		"password": password, "changed password": newPassword, "wrong password": wrongPassword,
		"admin password": servertest.AdminPassword, "session token": login.Token, "API token": apiTok.Token,
		"admin API token": adminSecret, "HEC token": hec.Token, "unknown bearer token": bogusBearer,
		"unknown HEC token": bogusHEC,
	}
	for i, k := range dataDirKeys(t, h.Data) {
		secrets[fmt.Sprintf("data dir key material #%d", i)] = k
	}
	places := map[string]string{"audit export": string(export), "server log": logs.String(), "API answers": tr.answers.String()}
	for where, text := range places {
		for what, secret := range secrets {
			if strings.Contains(text, secret) {
				t.Errorf("the %s appears in the %s", what, where)
			}
		}
	}

	// The session did happen, and was audited.
	evs := parseExport(t, export)
	want := [][3]string{
		{"admin", "user.create", "success"}, {"carol", "login", "failure"}, {"carol", "login", "success"},
		{"carol", "token.create", "success"}, {"", "get /v1/whoami", "denied"}, {"carol", "audit.export", "denied"},
		{"admin", "user.update", "success"}, {"admin", "hec_token.create", "success"}, {"carol", "logout", "success"},
	}
	for _, w := range want {
		if findEvent(evs, w[0], w[1], w[2]) == nil {
			t.Errorf("no audit event user=%q action=%q result=%q", w[0], w[1], w[2])
		}
	}
	if !slices.ContainsFunc(evs, func(e exportedEvent) bool { return e.Event.Action == "hec.ingest" && e.Event.Result == "denied" }) {
		t.Error("the refused HEC request is not audited")
	}
	if !strings.Contains(logs.String(), "request") {
		t.Error("the server logged nothing at debug level: the log check would check nothing")
	}
}

func ptr[T any](v T) *T { return &v }

func decodeJSON(t *testing.T, b []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
}

// shownOnce checks that a creation answer shows its secret exactly once.
func shownOnce(t *testing.T, what string, answer []byte, secret string) {
	t.Helper()
	if len(secret) < 16 || strings.Count(string(answer), secret) != 1 {
		t.Fatalf("%s must show the secret exactly once: %s", what, answer)
	}
}

// newHTTPClient is a plain HTTPS client that trusts the server's CA.
func newHTTPClient(t *testing.T, h *servertest.Harness) *http.Client {
	t.Helper()
	return &http.Client{Timeout: time.Minute, Transport: &http.Transport{TLSClientConfig: tlsConfig(t, h)}}
}
