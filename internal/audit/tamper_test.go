package audit_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dockyard/dockyard/internal/audit"
)

// These tests play an attacker who can write the database (or an export)
// but not the data dir's key files nor the external checkpoints file, and
// who knows the chain's format: plain SHA-256 links can be recomputed.

// rewriteFrom changes event from's user and recomputes the plain hashes
// and previous-hash links of every later event, keeping the stored MACs
// (blank: setting them to "").
func rewriteFrom(t *testing.T, f *fixture, from int64, blank bool) {
	t.Helper()
	f.exec(t, `UPDATE audit_chain SET body = replace(body, '"user":"alice"', '"user":"mallory"') WHERE seq = ?`, from)
	var last int64
	if err := f.db.SQL().QueryRow(`SELECT max(seq) FROM audit_chain`).Scan(&last); err != nil {
		t.Fatal(err)
	}
	for s := from; s <= last; s++ {
		rehash(t, f, s)
	}
	if blank {
		f.exec(t, `UPDATE audit_chain SET mac = '' WHERE seq >= ?`, from)
	}
}

// appendForged adds event seq at the end with a correct plain hash, and a
// MAC copied from another link (copy) or none.
func appendForged(t *testing.T, f *fixture, seq int64, copyMAC bool) {
	t.Helper()
	forgeAt(t, f, seq)
	if copyMAC {
		f.exec(t, `UPDATE audit_chain SET mac = (SELECT mac FROM audit_chain WHERE seq = 1) WHERE seq = ?`, seq)
	}
}

func TestAttackStore(t *testing.T) {
	dropCPs := func(t *testing.T, f *fixture) { f.exec(t, `DELETE FROM audit_checkpoints`) }
	tests := []struct {
		name   string
		tamper func(t *testing.T, f *fixture)
		seq    int64
		reason string
	}{
		{"checkpoints deleted", dropCPs, 0, "not in the database"},
		{"truncated", func(t *testing.T, f *fixture) {
			dropCPs(t, f)
			f.exec(t, `DELETE FROM audit_chain WHERE seq >= 6`)
		}, 6, "shorter than the latest signed checkpoint"},
		{"rewritten from seq 1", func(t *testing.T, f *fixture) { dropCPs(t, f); rewriteFrom(t, f, 1, false) }, 1, "MAC does not verify"},
		{"rewritten from seq 4", func(t *testing.T, f *fixture) { dropCPs(t, f); rewriteFrom(t, f, 4, false) }, 4, "MAC does not verify"},
		{"rewritten from seq 8", func(t *testing.T, f *fixture) { dropCPs(t, f); rewriteFrom(t, f, 8, false) }, 8, "MAC does not verify"},
		{"rewritten from seq 4, MACs blanked", func(t *testing.T, f *fixture) { dropCPs(t, f); rewriteFrom(t, f, 4, true) }, 4, "no MAC"},
		{"rewritten from seq 1, MACs blanked", func(t *testing.T, f *fixture) { dropCPs(t, f); rewriteFrom(t, f, 1, true) }, 1, "diverges"},
		{"MACs stripped", func(t *testing.T, f *fixture) { dropCPs(t, f); f.exec(t, `UPDATE audit_chain SET mac = ''`) }, 1, "no link carries a MAC"},
		{"forged event appended", func(t *testing.T, f *fixture) { dropCPs(t, f); appendForged(t, f, 9, false) }, 9, "no MAC"},
		{"forged event appended with a copied MAC", func(t *testing.T, f *fixture) { dropCPs(t, f); appendForged(t, f, 9, true) }, 9, "MAC does not verify"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := open(t)
			f.record(t, 8, 8)
			if _, err := f.log.Verify(context.Background()); err != nil {
				t.Fatalf("Verify before tampering: %v", err)
			}
			tt.tamper(t, f)
			_, err := f.log.Verify(context.Background())
			wantBroken(t, err, tt.seq, tt.reason)
			// A server started afresh on the tampered store finds it too.
			l2, err := audit.Open(context.Background(), f.db, audit.Options{KeyFile: filepath.Join(f.dir, "audit", "ed25519.pem")})
			if err != nil {
				t.Fatalf("reopen: %v", err)
			}
			_, err = l2.Verify(context.Background())
			wantBroken(t, err, tt.seq, tt.reason)
		})
	}
}

// TestForgedHeadIsNotExtended: the server refuses to chain after an event
// appended behind its back without the key, naming its seq.
func TestForgedHeadIsNotExtended(t *testing.T) {
	f := open(t)
	f.record(t, 3, 3)
	appendForged(t, f, 4, false)
	err := f.log.Record(context.Background(), audit.Event{User: "bob", Action: "login", Result: audit.ResultSuccess})
	if err == nil || !strings.Contains(err.Error(), "seq 4") || !strings.Contains(err.Error(), "chain key") {
		t.Fatalf("Record after a forged append = %v, want a refusal naming seq 4", err)
	}
}

func TestCheckpointsFileAndKeys(t *testing.T) {
	f := open(t)
	f.record(t, 4, 2)
	if _, err := f.log.Checkpoint(context.Background()); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(f.dir, "audit")
	for _, name := range []string{"chain.key", "checkpoints.jsonl", "ed25519.pem"} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("%s: %v, %v; want mode 0600", name, fi, err)
		}
	}
	b, err := os.ReadFile(filepath.Join(dir, "checkpoints.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	var last audit.CheckpointLine
	if len(lines) != 2 || json.Unmarshal([]byte(lines[1]), &last) != nil || last.Seq != 4 || last.KeyedFrom != 1 || last.Signature == "" || len(last.Head) != 64 {
		t.Fatalf("checkpoints file = %s", b)
	}
	// The chain key is nowhere in the database.
	key, err := audit.ReadChainKey(filepath.Join(dir, "chain.key"))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(f.dir, "dockyard.db"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(raw, key) || bytes.Contains(raw, []byte(strings.TrimSpace(string(mustRead(t, filepath.Join(dir, "chain.key")))))) {
		t.Fatal("the chain key is in the database")
	}
	// Without its key, a keyed chain refuses to open rather than re-key.
	if err := os.Remove(filepath.Join(dir, "chain.key")); err != nil {
		t.Fatal(err)
	}
	_, err = audit.Open(context.Background(), f.db, audit.Options{KeyFile: filepath.Join(dir, "ed25519.pem")})
	if err == nil || !strings.Contains(err.Error(), "keyed from seq 1") || !strings.Contains(err.Error(), "restore it") {
		t.Fatalf("Open without the chain key = %v, want a refusal", err)
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// exportEvent is the part of an export's event line the tests change.
type exportEvent struct {
	Type     string          `json:"type"`
	Seq      int64           `json:"seq"`
	PrevHash string          `json:"prev_hash"`
	Hash     string          `json:"hash"`
	MAC      string          `json:"mac,omitempty"`
	Event    json.RawMessage `json:"event"`
}

// rewriteExport changes event from's user and recomputes the plain links
// of it and every later event, keeping their MACs.
func rewriteExport(t *testing.T, lines []string, from int64) []string {
	t.Helper()
	prev := ""
	for i, l := range lines {
		if !strings.Contains(l, `"type":"event"`) {
			continue
		}
		var e exportEvent
		if err := json.Unmarshal([]byte(l), &e); err != nil {
			t.Fatal(err)
		}
		if e.Seq < from {
			prev = e.Hash
			continue
		}
		if e.Seq == from {
			e.Event = json.RawMessage(strings.Replace(string(e.Event), `"user":"alice"`, `"user":"mallory"`, 1))
		}
		e.PrevHash = prev
		if prev == "" {
			e.PrevHash = audit.GenesisHash
		}
		e.Hash = audit.LinkHashForTest(e.PrevHash, string(e.Event))
		prev = e.Hash
		b, _ := json.Marshal(e)
		lines[i] = string(b)
	}
	return lines
}

// withoutCheckpoints drops the checkpoint lines, and the header's
// checkpoint, whose count keep refuses.
func withoutCheckpoints(lines []string, keep func(count int64) bool) []string {
	var out []string
	for _, l := range lines {
		var c struct {
			Type  string `json:"type"`
			Count int64  `json:"count"`
		}
		json.Unmarshal([]byte(l), &c)
		switch {
		case c.Type == "checkpoint" && !keep(c.Count):
			continue
		case c.Type == "header" && !keep(c.Count):
			var m map[string]any
			json.Unmarshal([]byte(l), &m)
			for _, k := range []string{"count", "head", "keyed_from", "time", "key_id", "signature"} {
				delete(m, k)
			}
			b, _ := json.Marshal(m)
			l = string(b)
		}
		out = append(out, l)
	}
	return out
}

func TestAttackExport(t *testing.T) {
	f := open(t)
	f.record(t, 8, 6) // checkpoints at 6 and (by the export) 8
	lines := exportLines(t, f)
	pub := f.log.PublicKey()
	key, err := audit.ReadChainKey(filepath.Join(f.dir, "audit", "chain.key"))
	if err != nil {
		t.Fatal(err)
	}
	external, err := audit.ReadCheckpointsFile(f.log.CheckpointFile())
	if err != nil {
		t.Fatal(err)
	}
	forged := func(l []string) []string {
		var e exportEvent
		json.Unmarshal([]byte(l[eventLine(l, 8)]), &e)
		body := `{"action":"model.delete","result":"success","seq":9,"time":"2025-01-01T00:00:00Z","user":"mallory"}`
		b, _ := json.Marshal(exportEvent{Type: "event", Seq: 9, PrevHash: e.Hash, Hash: audit.LinkHashForTest(e.Hash, body), Event: json.RawMessage(body)})
		return append(l, string(b))
	}
	tests := []struct {
		name     string
		edit     func(l []string) []string
		opts     audit.FileOptions
		seq      int64
		reason   string
		external bool
	}{
		{"intact", func(l []string) []string { return l }, audit.FileOptions{}, -1, "", false},
		{"intact, with the chain key and the checkpoints file", func(l []string) []string { return l }, audit.FileOptions{ChainKey: key}, -1, "", true},
		{"checkpoints deleted", func(l []string) []string { return withoutCheckpoints(l, func(int64) bool { return false }) },
			audit.FileOptions{}, 1, "no valid checkpoint", false},
		{"latest checkpoint deleted", func(l []string) []string { return withoutCheckpoints(l, func(c int64) bool { return c < 8 }) },
			audit.FileOptions{}, 7, "not covered", false},
		{"truncated", func(l []string) []string { return l[:eventLine(l, 5)] }, audit.FileOptions{}, 5, "shorter", false},
		{"rewritten from seq 3, checkpoints deleted, checked against the checkpoints file", func(l []string) []string {
			return withoutCheckpoints(rewriteExport(t, l, 3), func(int64) bool { return false })
		}, audit.FileOptions{}, 1, "no valid checkpoint", true},
		{"truncated, checkpoint lines deleted, header kept", func(l []string) []string {
			return withoutCheckpoints(l[:eventLine(l, 7)], func(c int64) bool { return c == 0 || c == 8 })
		}, audit.FileOptions{}, 7, "shorter", false},
		{"rewritten from seq 3", func(l []string) []string { return rewriteExport(t, l, 3) }, audit.FileOptions{}, 1, "diverges", false},
		{"rewritten from seq 7", func(l []string) []string { return rewriteExport(t, l, 7) }, audit.FileOptions{}, 7, "diverges", false},
		{"rewritten from seq 3, with the chain key", func(l []string) []string { return rewriteExport(t, l, 3) }, audit.FileOptions{ChainKey: key}, 3, "MAC does not verify", false},
		{"rewritten from seq 1 and checkpoints deleted", func(l []string) []string {
			return withoutCheckpoints(rewriteExport(t, l, 1), func(int64) bool { return false })
		}, audit.FileOptions{}, 1, "no valid checkpoint", false},
		{"forged event appended", forged, audit.FileOptions{}, 9, "no MAC", false},
		{"forged event appended, with the chain key", forged, audit.FileOptions{ChainKey: key}, 9, "no MAC", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := tt.edit(append([]string(nil), lines...))
			opts := tt.opts
			opts.PublicKey = pub
			if tt.external {
				opts.Checkpoints = external
			}
			res, err := audit.VerifyFile(strings.NewReader(strings.Join(l, "\n")), opts)
			if tt.seq < 0 {
				if err != nil || res.Events != 8 || res.MACsChecked != (opts.ChainKey != nil) {
					t.Fatalf("VerifyFile = %+v, %v; want ok", res, err)
				}
				return
			}
			wantBroken(t, err, tt.seq, tt.reason)
		})
	}
}

// TestOlderExportAgainstNewerCheckpoints: an export cut back to an earlier
// checkpoint cannot be told from an older export; checked against the
// checkpoints file it passes with ExternalAhead saying how far the file goes
// (the CLI warns), and it must still match every checkpoint it reaches.
func TestOlderExportAgainstNewerCheckpoints(t *testing.T) {
	f := open(t)
	f.record(t, 6, 6)
	lines := exportLines(t, f)
	f.record(t, 2, 2)
	ext, err := audit.ReadCheckpointsFile(f.log.CheckpointFile())
	if err != nil {
		t.Fatal(err)
	}
	res, err := audit.VerifyFile(strings.NewReader(strings.Join(lines, "\n")), audit.FileOptions{PublicKey: f.log.PublicKey(), Checkpoints: ext})
	if err != nil || res.Events != 6 || res.ExternalAhead != 8 {
		t.Fatalf("older export = %+v, %v; want ok, the file ahead at 8", res, err)
	}
	// Rewritten and re-checkpointed with the lines of its own: the file's
	// checkpoints within it still disagree.
	l := withoutCheckpoints(rewriteExport(t, append([]string(nil), lines...), 2), func(int64) bool { return false })
	_, err = audit.VerifyFile(strings.NewReader(strings.Join(l, "\n")), audit.FileOptions{PublicKey: f.log.PublicKey(), Checkpoints: ext})
	wantBroken(t, err, 1, "no valid checkpoint")
}

// TestForgedEventWithMACRemovedIsNotCovered: offline without the chain key,
// a forged event whose MAC field looks plausible is still caught, because
// no signed checkpoint covers it.
func TestForgedEventWithMACRemovedIsNotCovered(t *testing.T) {
	f := open(t)
	f.record(t, 3, 0)
	lines := exportLines(t, f)
	var e exportEvent
	json.Unmarshal([]byte(lines[eventLine(lines, 3)]), &e)
	body := `{"action":"x","result":"success","seq":4,"time":"2025-01-01T00:00:00Z","user":"mallory"}`
	h := audit.LinkHashForTest(e.Hash, body)
	b, _ := json.Marshal(exportEvent{Type: "event", Seq: 4, PrevHash: e.Hash, Hash: h, MAC: strings.Repeat("ab", 32), Event: json.RawMessage(body)})
	_, err := audit.VerifyFile(strings.NewReader(strings.Join(append(lines, string(b)), "\n")), audit.FileOptions{PublicKey: f.log.PublicKey()})
	wantBroken(t, err, 4, "not covered: events 4..4")
}

// TestTornCheckpointLine: a crash while a checkpoint line was written leaves
// a partial line; the next start removes it and the chain still verifies.
func TestTornCheckpointLine(t *testing.T) {
	f := open(t)
	f.record(t, 3, 3)
	path := f.log.CheckpointFile()
	fh, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	fh.WriteString(`{"seq":4,"head":"ab`)
	fh.Close()
	f.log = f.reopen(t, audit.Options{})
	f.record(t, 2, 0)
	if res, err := f.log.Verify(context.Background()); err != nil || res.Events != 5 {
		t.Fatalf("Verify after a torn checkpoint line = %+v, %v", res, err)
	}
	if b := mustRead(t, path); bytes.Contains(b, []byte(`"head":"ab`+"\n")) || !bytes.HasSuffix(b, []byte("\n")) {
		t.Fatalf("checkpoints file = %s", b)
	}
}

// TestCrashBetweenCheckpointWrites: a checkpoint that reached the database
// but not the file (a crash between the two) is appended at the next start.
func TestCrashBetweenCheckpointWrites(t *testing.T) {
	f := open(t)
	f.record(t, 3, 3)
	path := f.log.CheckpointFile()
	before := mustRead(t, path)
	f.record(t, 2, 2)
	if err := os.WriteFile(path, before, 0o600); err != nil { // the last line never made it
		t.Fatal(err)
	}
	f.log = f.reopen(t, audit.Options{})
	if res, err := f.log.Verify(context.Background()); err != nil || res.Events != 5 || res.Checkpoints != 2 {
		t.Fatalf("Verify after a crash between checkpoint writes = %+v, %v", res, err)
	}
}
