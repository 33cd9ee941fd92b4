package audit_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dockyard/dockyard/internal/audit"
	"github.com/dockyard/dockyard/internal/store"
	"github.com/dockyard/dockyard/internal/store/sqlite"
)

// legacyChain writes n links the way servers did before links were keyed
// (no MAC, a version 1 checkpoint in the database, no external file).
func legacyChain(t *testing.T, n int64) *fixture {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	db, err := sqlite.Open(ctx, filepath.Join(dir, "dockyard.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	priv, err := audit.LoadOrCreateKey(filepath.Join(dir, "audit", "ed25519.pem"))
	if err != nil {
		t.Fatal(err)
	}
	prev := audit.GenesisHash
	for s := int64(1); s <= n; s++ {
		body := fmt.Sprintf(`{"action":"model.create","result":"success","seq":%d,"time":"2025-01-01T00:00:00Z","user":"alice"}`, s)
		h := audit.LinkHashForTest(prev, body)
		if err := db.AppendAudit(ctx, store.AuditRecord{Seq: s, PrevHash: prev, Hash: h, Body: body},
			store.EventRecord{Index: audit.IndexName, Time: time.Unix(0, 0), Raw: audit.FormatBodyForTest(body)}); err != nil {
			t.Fatal(err)
		}
		prev = h
	}
	cp := store.AuditCheckpoint{Count: n, Head: prev, Time: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), KeyID: "legacy"}
	cp.Signature = audit.SignCheckpointForTest(priv, cp)
	if err := db.AddAuditCheckpoint(ctx, cp); err != nil {
		t.Fatal(err)
	}
	return &fixture{db: db, dir: dir}
}

func (f *fixture) reopen(t *testing.T, opts audit.Options) *audit.Log {
	t.Helper()
	opts.KeyFile = filepath.Join(f.dir, "audit", "ed25519.pem")
	l, err := audit.Open(context.Background(), f.db, opts)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestLegacyChainIsAnchored(t *testing.T) {
	ctx := context.Background()
	f := legacyChain(t, 5)
	f.log = f.reopen(t, audit.Options{})
	res, err := f.log.Verify(ctx)
	if err != nil || res.Events != 6 || res.KeyedFrom != 6 {
		t.Fatalf("Verify after anchoring = %+v, %v; want 6 events keyed from 6", res, err)
	}
	var action, body string
	if err := f.db.SQL().QueryRow(`SELECT body FROM audit_chain WHERE seq = 6`).Scan(&body); err != nil {
		t.Fatal(err)
	}
	var e struct {
		Action  string         `json:"action"`
		Details map[string]any `json:"details"`
	}
	json.Unmarshal([]byte(body), &e)
	action = e.Action
	if action != audit.AnchorAction || fmt.Sprint(e.Details["keyed_from"]) != "6" {
		t.Fatalf("seq 6 = %s, want the anchor", body)
	}
	f.record(t, 2, 0)
	// A restart keeps the anchor: no second one.
	f.log = f.reopen(t, audit.Options{})
	if res, err := f.log.Verify(ctx); err != nil || res.Events != 8 || res.KeyedFrom != 6 {
		t.Fatalf("Verify after restart = %+v, %v", res, err)
	}
	// The unkeyed part is still protected: rewriting it breaks the anchor.
	f.exec(t, `DELETE FROM audit_checkpoints`)
	rewriteFrom(t, f, 2, false)
	_, err = f.log.Verify(ctx)
	wantBroken(t, err, 6, "MAC does not verify")
}

func TestLegacyChainMACsStrippedAfterAnchor(t *testing.T) {
	f := legacyChain(t, 3)
	f.log = f.reopen(t, audit.Options{})
	f.record(t, 2, 0)
	f.exec(t, `UPDATE audit_chain SET mac = '' WHERE seq >= 5`)
	// A restart must not re-anchor a chain whose checkpoints say it is keyed.
	f.log = f.reopen(t, audit.Options{})
	_, err := f.log.Verify(context.Background())
	wantBroken(t, err, 5, "no MAC")
}

// hecReceiver is an HTTP Event Collector that keeps what it is sent.
type hecReceiver struct {
	mu     sync.Mutex
	bodies []string
	auth   []string
}

func (h *hecReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	h.mu.Lock()
	h.bodies = append(h.bodies, string(b))
	h.auth = append(h.auth, r.Header.Get("Authorization"))
	h.mu.Unlock()
	if r.Header.Get("Authorization") != "Splunk hec-tok" {
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, `{"text":"Invalid token","code":4}`)
		return
	}
	io.WriteString(w, `{"text":"Success","code":0}`)
}

func TestCheckpointsForwardedToHEC(t *testing.T) {
	recv := &hecReceiver{}
	srv := httptest.NewServer(recv)
	defer srv.Close()
	f := open(t)
	f.log = f.reopen(t, audit.Options{Forward: &audit.HECForwarder{URL: srv.URL + "/services/collector/event", Token: "hec-tok", Host: "srv"}})
	f.record(t, 3, 3)
	recv.mu.Lock()
	bodies, auth := append([]string(nil), recv.bodies...), append([]string(nil), recv.auth...)
	recv.mu.Unlock()
	if len(bodies) != 1 || auth[0] != "Splunk hec-tok" {
		t.Fatalf("HEC got %d posts (%v)", len(bodies), auth)
	}
	var ev struct {
		Sourcetype string               `json:"sourcetype"`
		Event      audit.CheckpointLine `json:"event"`
	}
	if err := json.Unmarshal([]byte(bodies[0]), &ev); err != nil || ev.Sourcetype != audit.CheckpointSourcetype || ev.Event.Seq != 3 || ev.Event.Signature == "" {
		t.Fatalf("HEC event = %s (%v)", bodies[0], err)
	}
	// What was forwarded checks an export like the checkpoints file does.
	cps, err := audit.ReadCheckpoints(strings.NewReader(mustJSON(t, ev.Event)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := audit.VerifyFile(strings.NewReader(strings.Join(exportLines(t, f), "\n")), audit.FileOptions{PublicKey: f.log.PublicKey(), Checkpoints: cps}); err != nil {
		t.Fatalf("VerifyFile against the forwarded checkpoint: %v", err)
	}
	// A refused forward is an error of Forward, not of the checkpoint.
	bad := &audit.HECForwarder{URL: srv.URL, Token: "wrong"}
	if err := bad.Forward(context.Background(), store.AuditCheckpoint{Count: 1}); err == nil || !strings.Contains(err.Error(), "401") {
		t.Fatalf("Forward with a bad token = %v", err)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
