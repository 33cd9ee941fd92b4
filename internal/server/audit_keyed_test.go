package server_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
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
	db := h.Srv.Store.SQL()
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
