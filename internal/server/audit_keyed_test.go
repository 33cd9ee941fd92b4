package server_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/dockyard/dockyard/internal/access"
	"github.com/dockyard/dockyard/internal/audit"
	"github.com/dockyard/dockyard/internal/server/servertest"
)

// TestAuditCheckpointsLeaveTheDatabase: checkpoints reach the external
// file and a configured HEC, and a store whose checkpoint rows were deleted
// and whose chain got a forged event with a correct plain hash fails verify.
func TestAuditCheckpointsLeaveTheDatabase(t *testing.T) {
	var mu sync.Mutex
	var got []string
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, r.Header.Get("Authorization")+" "+string(b))
		mu.Unlock()
		io.WriteString(w, `{"text":"Success","code":0}`)
	}))
	defer recv.Close()
	cfg := servertest.Config(t.TempDir())
	cfg.Audit.CheckpointHECURL = recv.URL + "/services/collector/event"
	cfg.Audit.CheckpointHECToken = "checkpoint-hec-token"
	h := servertest.StartConfig(t, cfg)
	ctx := context.Background()
	userToken(t, h, "bob", access.RoleUser)
	v, err := h.Admin.AuditVerify(ctx)
	if err != nil || !v.OK {
		t.Fatalf("verify = %+v, %v", v, err)
	}
	mu.Lock()
	posts := append([]string(nil), got...)
	mu.Unlock()
	if len(posts) == 0 || !strings.HasPrefix(posts[len(posts)-1], "Splunk checkpoint-hec-token ") || !strings.Contains(posts[len(posts)-1], audit.CheckpointSourcetype) {
		t.Fatalf("HEC received %q, want the verify's checkpoint", posts)
	}
	cps, err := audit.ReadCheckpointsFile(filepath.Join(h.Data, "audit", "checkpoints.jsonl"))
	if err != nil || len(cps) == 0 || cps[len(cps)-1].Count != v.Events || cps[len(cps)-1].KeyedFrom != 1 {
		t.Fatalf("checkpoints file = %+v, %v (verify saw %d events)", cps, err, v.Events)
	}
	for _, name := range []string{"chain.key", "checkpoints.jsonl"} {
		if fi, err := os.Stat(filepath.Join(h.Data, "audit", name)); err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("%s: %v %v", name, fi, err)
		}
	}

	// The attacker can write the database only.
	db := h.Srv.SQLite().SQL()
	var prev string
	if err := db.QueryRow(`SELECT hash FROM audit_chain WHERE seq = ?`, v.Events).Scan(&prev); err != nil {
		t.Fatal(err)
	}
	seq := v.Events + 1
	body := fmt.Sprintf(`{"action":"user.delete","object":"user:bob","result":"success","seq":%d,"time":"2025-01-01T00:00:00Z","user":"admin"}`, seq)
	if _, err := db.Exec(`DELETE FROM audit_checkpoints`); err != nil {
		t.Fatal(err)
	}
	var id int64
	if err := db.QueryRow(`INSERT INTO events(idx, time_ns, raw) VALUES ('_internal', 0, ?) RETURNING id`, audit.FormatLine(seq, audit.Event{User: "admin", Action: "user.delete", Object: "user:bob", Result: "success"})).Scan(&id); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO audit_chain(seq, prev_hash, hash, body, event_id) VALUES (?, ?, ?, ?, ?)`,
		seq, prev, plainHash(prev, body), body, id); err != nil {
		t.Fatal(err)
	}
	v, err = h.Admin.AuditVerify(ctx)
	if err != nil || v.OK || v.Seq != seq || !strings.Contains(v.Reason, "no MAC") {
		t.Fatalf("verify after a forged append = %+v, %v; want seq %d without a MAC", v, err, seq)
	}
}

// plainHash is the chain's unkeyed link hash, which anyone can compute.
func plainHash(prev, body string) string {
	h := sha256.Sum256([]byte(prev + body))
	return hex.EncodeToString(h[:])
}

// TestAuditVerifyFileAgainstCheckpoints: the CLI checks an export offline
// against the data dir's checkpoints file and chain key, and an export
// rewritten with recomputed plain hashes fails against them.
func TestAuditVerifyFileAgainstCheckpoints(t *testing.T) {
	h := servertest.Start(t)
	admin := adminToken(t, h)
	userToken(t, h, "bob", access.RoleUser)
	dir := t.TempDir()
	file := filepath.Join(dir, "audit.jsonl")
	if _, e, code := cliRun(t, h, admin, "audit", "export", "--file", file); code != 0 {
		t.Fatalf("audit export: %s", e)
	}
	pem, _, _ := cliRun(t, h, admin, "audit", "key")
	keyFile := filepath.Join(dir, "audit.pem")
	if err := os.WriteFile(keyFile, []byte(pem), 0o600); err != nil {
		t.Fatal(err)
	}
	h.Stop() // signs a checkpoint beyond the export (its own audit event)
	cps, chainKey := filepath.Join(h.Data, "audit", "checkpoints.jsonl"), filepath.Join(h.Data, "audit", "chain.key")
	out, e, code := cliRun(t, h, "", "audit", "verify", "--file", file, "--key", keyFile, "--checkpoints", cps, "--chain-key", chainKey)
	if code != 0 || !strings.HasPrefix(out, "ok: ") || !strings.Contains(e, "note: the checkpoints file goes on to seq") {
		t.Fatalf("verify --file --checkpoints --chain-key: code %d, %q %q", code, out, e)
	}
	// Rewrite bob's login and every later link with recomputed plain hashes,
	// and drop the checkpoints inside the file.
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	prev, changed := "", int64(0)
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatal(err)
		}
		switch m["type"] {
		case "checkpoint":
			continue
		case "header":
			for _, k := range []string{"count", "head", "keyed_from", "time", "key_id", "signature"} {
				delete(m, k)
			}
		case "event":
			ev, _ := json.Marshal(m["event"])
			body := string(ev)
			if changed == 0 && strings.Contains(body, `"user":"bob"`) {
				body = strings.Replace(body, `"user":"bob"`, `"user":"mallory"`, 1)
				changed = int64(m["seq"].(float64))
			}
			if changed > 0 {
				m["prev_hash"] = prev
				m["hash"] = plainHash(prev, body)
				m["event"] = json.RawMessage(body)
			}
			prev = m["hash"].(string)
		}
		nb, _ := json.Marshal(m)
		lines = append(lines, string(nb))
	}
	if changed == 0 {
		t.Fatal("no event of bob in the export")
	}
	if err := os.WriteFile(file, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, e, code = cliRun(t, h, "", "audit", "verify", "--file", file, "--key", keyFile, "--chain-key", chainKey)
	if code == 0 || !strings.Contains(e, fmt.Sprintf("seq %d: its MAC does not verify", changed)) {
		t.Fatalf("verify of a rewritten export with the chain key: code %d, %q", code, e)
	}
	_, e, code = cliRun(t, h, "", "audit", "verify", "--file", file, "--key", keyFile)
	if code == 0 || !strings.Contains(e, "no valid checkpoint") {
		t.Fatalf("verify of a rewritten export without checkpoints: code %d, %q", code, e)
	}
}
