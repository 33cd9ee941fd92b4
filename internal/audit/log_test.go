package audit_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dockyard/dockyard/internal/access"
	"github.com/dockyard/dockyard/internal/audit"
	"github.com/dockyard/dockyard/internal/index"
	"github.com/dockyard/dockyard/internal/store/sqlite"
)

type fixture struct {
	db  *sqlite.DB
	log *audit.Log
	dir string
}

func open(t *testing.T) *fixture {
	t.Helper()
	dir := t.TempDir()
	db, err := sqlite.Open(context.Background(), filepath.Join(dir, "dockyard.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	l, err := audit.Open(context.Background(), db, audit.Options{KeyFile: filepath.Join(dir, "audit", "ed25519.pem"), Host: "srv"})
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{db: db, log: l, dir: dir}
}

// record writes n events, with a checkpoint after event cpAt (0: none).
func (f *fixture) record(t *testing.T, n, cpAt int) {
	t.Helper()
	ctx := context.Background()
	for i := 1; i <= n; i++ {
		e := audit.Event{User: "alice", Action: "model.version.create", Object: fmt.Sprintf("app:M%d", i), App: "search",
			Result: audit.ResultSuccess, Source: "10.0.0.1", RequestID: fmt.Sprintf("r%d", i), Details: map[string]any{"version": i}}
		if err := f.log.Record(ctx, e); err != nil {
			t.Fatalf("Record(%d): %v", i, err)
		}
		if i == cpAt {
			if _, err := f.log.Checkpoint(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func (f *fixture) exec(t *testing.T, q string, args ...any) {
	t.Helper()
	if _, err := f.db.SQL().Exec(q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

func wantBroken(t *testing.T, err error, seq int64, reason string) {
	t.Helper()
	var ve *audit.VerifyError
	if !errors.As(err, &ve) {
		t.Fatalf("verify error = %v, want a *VerifyError naming seq %d", err, seq)
	}
	if ve.Seq != seq || !strings.Contains(ve.Reason, reason) {
		t.Fatalf("verify error = %q (seq %d), want seq %d and %q", ve.Error(), ve.Seq, seq, reason)
	}
	if seq > 0 && !strings.Contains(ve.Error(), fmt.Sprintf("seq %d", seq)) {
		t.Fatalf("message %q does not name seq %d", ve.Error(), seq)
	}
}

func TestVerifyIntactAndReopen(t *testing.T) {
	f := open(t)
	ctx := context.Background()
	if res, err := f.log.Verify(ctx); err != nil || res.String() != "ok: 0 events" {
		t.Fatalf("Verify(empty) = %v, %v", res, err)
	}
	f.record(t, 5, 3)
	l2, err := audit.Open(ctx, f.db, audit.Options{KeyFile: filepath.Join(f.dir, "audit", "ed25519.pem")})
	if err != nil {
		t.Fatal(err)
	}
	if !l2.PublicKey().Equal(f.log.PublicKey()) {
		t.Fatal("reopening created a new key")
	}
	if err := l2.Record(ctx, audit.Event{User: "bob", Action: "logout", Result: audit.ResultSuccess}); err != nil {
		t.Fatal(err)
	}
	if _, err := l2.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	res, err := l2.Verify(ctx)
	if err != nil || res.String() != "ok: 6 events" || res.Checkpoints != 2 {
		t.Fatalf("Verify = %+v, %v", res, err)
	}
	fi, err := os.Stat(filepath.Join(f.dir, "audit", "ed25519.pem"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode = %v, %v; want 0600", fi.Mode(), err)
	}
	// The old Log's head is stale: its next Record must chain after seq 6.
	if err := f.log.Record(ctx, audit.Event{User: "carol", Action: "login", Result: audit.ResultSuccess}); err != nil {
		t.Fatal(err)
	}
	if res, err := l2.Verify(ctx); err != nil || res.Events != 7 {
		t.Fatalf("Verify after a stale writer = %+v, %v", res, err)
	}
}

func TestConcurrentRecord(t *testing.T) {
	f := open(t)
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 5; i++ {
				if err := f.log.Record(context.Background(), audit.Event{User: "u", Action: "x", Result: audit.ResultSuccess}); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	if res, err := f.log.Verify(context.Background()); err != nil || res.Events != 40 {
		t.Fatalf("Verify = %+v, %v", res, err)
	}
}

// swapRows exchanges the stored links of two seqs (content, hashes), as
// someone reordering events in the database would.
const swapRows = `UPDATE audit_chain SET prev_hash = (SELECT prev_hash FROM audit_chain b WHERE b.seq = 9 - audit_chain.seq),
	hash = (SELECT hash FROM audit_chain b WHERE b.seq = 9 - audit_chain.seq),
	body = (SELECT body FROM audit_chain b WHERE b.seq = 9 - audit_chain.seq) WHERE seq IN (4, 5)`

func TestTamperInStore(t *testing.T) {
	tests := []struct {
		name   string
		tamper func(t *testing.T, f *fixture)
		seq    int64
		reason string
	}{
		{"edit", func(t *testing.T, f *fixture) {
			f.exec(t, `UPDATE audit_chain SET body = replace(body, '"user":"alice"', '"user":"mallory"') WHERE seq = 5`)
		}, 5, "does not match its hash (edited"},
		{"edit and rehash", func(t *testing.T, f *fixture) {
			f.exec(t, `UPDATE audit_chain SET body = replace(body, '"user":"alice"', '"user":"mallory"') WHERE seq = 5`)
			rehash(t, f, 5)
		}, 5, "MAC does not verify"},
		{"delete", func(t *testing.T, f *fixture) { f.exec(t, `DELETE FROM audit_chain WHERE seq = 5`) }, 5, "missing"},
		{"delete tail after checkpoint", func(t *testing.T, f *fixture) { f.exec(t, `DELETE FROM audit_chain WHERE seq >= 7`) }, 7, "deleted"},
		{"insert", func(t *testing.T, f *fixture) {
			f.exec(t, `UPDATE audit_chain SET seq = seq + 100 WHERE seq >= 5`)
			f.exec(t, `UPDATE audit_chain SET seq = seq - 99 WHERE seq >= 105`)
			forgeAt(t, f, 5)
		}, 5, "no MAC"},
		{"reorder", func(t *testing.T, f *fixture) { f.exec(t, swapRows) }, 4, "reordered"},
		{"edit searchable copy", func(t *testing.T, f *fixture) {
			f.exec(t, `UPDATE events SET raw = replace(raw, 'user=alice', 'user=mallory') WHERE id = (SELECT event_id FROM audit_chain WHERE seq = 3)`)
		}, 3, "searchable copy"},
		{"delete searchable copy", func(t *testing.T, f *fixture) {
			f.exec(t, `DELETE FROM events WHERE id = (SELECT event_id FROM audit_chain WHERE seq = 2)`)
		}, 2, "searchable copy"},
		{"rewrite whole chain", func(t *testing.T, f *fixture) {
			f.exec(t, `UPDATE audit_chain SET body = replace(body, '"user":"alice"', '"user":"mallory"') WHERE seq = 4`)
			for s := int64(4); s <= 8; s++ {
				rehash(t, f, s)
			}
		}, 4, "MAC does not verify"},
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
		})
	}
}

// rehash recomputes the hash of seq and the prev_hash of seq+1 as an
// attacker with database access would (the chain is public knowledge).
func rehash(t *testing.T, f *fixture, seq int64) {
	t.Helper()
	var prev, body string
	if err := f.db.SQL().QueryRow(`SELECT prev_hash, body FROM audit_chain WHERE seq = ?`, seq).Scan(&prev, &body); err != nil {
		t.Fatal(err)
	}
	h := audit.LinkHashForTest(prev, body)
	f.exec(t, `UPDATE audit_chain SET hash = ? WHERE seq = ?`, h, seq)
	f.exec(t, `UPDATE audit_chain SET prev_hash = ? WHERE seq = ?`, h, seq+1)
	fixCopy(t, f, seq)
}

// fixCopy rewrites the searchable copy so that only the chain can tell.
func fixCopy(t *testing.T, f *fixture, seq int64) {
	t.Helper()
	var body string
	var id int64
	if err := f.db.SQL().QueryRow(`SELECT body, event_id FROM audit_chain WHERE seq = ?`, seq).Scan(&body, &id); err != nil {
		t.Fatal(err)
	}
	f.exec(t, `UPDATE events SET raw = ? WHERE id = ?`, audit.FormatBodyForTest(body), id)
}

// forgeAt inserts a well-formed event at seq that links to seq-1.
func forgeAt(t *testing.T, f *fixture, seq int64) {
	t.Helper()
	var prev string
	if err := f.db.SQL().QueryRow(`SELECT hash FROM audit_chain WHERE seq = ?`, seq-1).Scan(&prev); err != nil {
		t.Fatal(err)
	}
	body := fmt.Sprintf(`{"action":"model.delete","result":"success","seq":%d,"time":"2025-01-01T00:00:00Z","user":"mallory"}`, seq)
	var id int64
	err := f.db.SQL().QueryRow(`INSERT INTO events(idx, time_ns, raw) VALUES ('_internal', 0, ?) RETURNING id`, audit.FormatBodyForTest(body)).Scan(&id)
	if err != nil {
		t.Fatal(err)
	}
	f.exec(t, `INSERT INTO audit_chain(seq, prev_hash, hash, body, event_id) VALUES (?, ?, ?, ?, ?)`, seq, prev, audit.LinkHashForTest(prev, body), body, id)
}

func exportLines(t *testing.T, f *fixture) []string {
	t.Helper()
	var buf bytes.Buffer
	if err := f.log.Export(context.Background(), &buf); err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSpace(buf.String()), "\n")
}

// eventLine returns the index in lines of the event with seq.
func eventLine(lines []string, seq int) int {
	for i, l := range lines {
		if strings.Contains(l, `"type":"event"`) && strings.Contains(l, fmt.Sprintf(`"seq":%d,"prev_hash"`, seq)) {
			return i
		}
	}
	return -1
}

func TestTamperInExport(t *testing.T) {
	f := open(t)
	f.record(t, 8, 6)
	lines := exportLines(t, f)
	pub := f.log.PublicKey()
	if res, err := audit.VerifyFile(strings.NewReader(strings.Join(lines, "\n")), audit.FileOptions{PublicKey: pub}); err != nil || res.String() != "ok: 8 events" || res.Checkpoints != 2 || res.KeyFromFile {
		t.Fatalf("VerifyFile(intact) = %+v, %v", res, err)
	}
	if res, err := audit.VerifyFile(strings.NewReader(strings.Join(lines, "\n")), audit.FileOptions{}); err != nil || !res.KeyFromFile {
		t.Fatalf("VerifyFile(intact, key from file) = %+v, %v", res, err)
	}
	otherPub, _, _ := ed25519.GenerateKey(rand.Reader)
	tests := []struct {
		name   string
		edit   func(l []string) []string
		key    ed25519.PublicKey
		seq    int64
		reason string
	}{
		{"edit", func(l []string) []string {
			i := eventLine(l, 3)
			l[i] = strings.Replace(l[i], `"user":"alice"`, `"user":"mallory"`, 1)
			return l
		}, pub, 3, "edited"},
		{"white space only is fine", func(l []string) []string {
			i := eventLine(l, 3)
			l[i] = strings.Replace(l[i], `"user":"alice"`, `"user" :  "alice"`, 1)
			return l
		}, pub, -1, ""},
		{"delete", func(l []string) []string {
			i := eventLine(l, 4)
			return append(l[:i:i], l[i+1:]...)
		}, pub, 4, "missing"},
		{"delete tail", func(l []string) []string { return l[:eventLine(l, 6)] }, pub, 6, "deleted"},
		{"insert", func(l []string) []string {
			i := eventLine(l, 5)
			forged := strings.Replace(l[i], `"user":"alice"`, `"user":"mallory"`, 1)
			return append(append(l[:i:i], forged), l[i:]...)
		}, pub, 5, ""},
		{"reorder", func(l []string) []string {
			i, j := eventLine(l, 5), eventLine(l, 6)
			l[i], l[j] = l[j], l[i]
			return l
		}, pub, 5, "missing"},
		{"wrong key", func(l []string) []string { return l }, otherPub, 0, "different public key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := tt.edit(append([]string(nil), lines...))
			_, err := audit.VerifyFile(strings.NewReader(strings.Join(l, "\n")), audit.FileOptions{PublicKey: tt.key})
			if tt.seq < 0 {
				if err != nil {
					t.Fatalf("VerifyFile = %v, want ok", err)
				}
				return
			}
			wantBroken(t, err, tt.seq, tt.reason)
		})
	}
}

func TestExportForgedCheckpoint(t *testing.T) {
	f := open(t)
	f.record(t, 3, 3)
	lines := exportLines(t, f)
	for i, l := range lines {
		if strings.Contains(l, `"type":"checkpoint"`) {
			lines[i] = strings.Replace(l, `"count":3`, `"count":2`, 1)
		}
	}
	_, err := audit.VerifyFile(strings.NewReader(strings.Join(lines, "\n")), audit.FileOptions{PublicKey: f.log.PublicKey()})
	wantBroken(t, err, 0, "signature does not verify")
}

func TestRedaction(t *testing.T) {
	f := open(t)
	ctx := context.Background()
	secrets := []string{"hunter2-pass", "tok-3f9a1c", "s3cr3t-value", "AKIA-private", "Splunk-abcd-1234", "reg-cred-99", "bearer-xyz"}
	events := []audit.Event{
		{User: "admin", Action: "user.create", Object: "bob", Result: audit.ResultSuccess, Details: map[string]any{"password": secrets[0], "roles": []string{"user"}}},
		{User: "admin", Action: "hec.token.create", Object: "ci", Result: audit.ResultSuccess, Details: map[string]any{"token": secrets[1], "token_name": "ci", "indexes": "main"}},
		{User: "admin", Action: "settings.observability", Result: audit.ResultSuccess, Details: map[string]any{
			"endpoint": "https://otel:4318", "access_token": secrets[2], "nested": map[string]string{"api_key": secrets[3]}}},
		{User: "admin", Action: "images.registry", Result: audit.ResultSuccess, Details: map[string]any{
			"registry": "docker.io", "credentials": map[string]string{"user": "u", "password": secrets[5]}, "Authorization": secrets[4]}},
		{User: "bob", Action: "login", Result: audit.ResultDenied, Message: "bad request: password=" + secrets[0] + " Authorization: Bearer " + secrets[6],
			Details: map[string]any{"header": "Authorization: Splunk " + secrets[4]}},
	}
	for _, e := range events {
		if err := f.log.Record(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	if err := f.log.Export(ctx, &buf); err != nil {
		t.Fatal(err)
	}
	var raws []string
	rows, err := f.db.SQL().Query(`SELECT raw FROM events`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var r string
		rows.Scan(&r)
		raws = append(raws, r)
	}
	rows.Close()
	all := buf.String() + strings.Join(raws, "\n")
	for _, s := range secrets {
		if strings.Contains(all, s) {
			t.Errorf("secret %q appears in the audit trail:\n%s", s, all)
		}
	}
	for _, keep := range []string{"token_name=ci", "registry=docker.io", "endpoint=https://otel:4318", audit.Redacted} {
		if !strings.Contains(all, keep) {
			t.Errorf("audit trail lost %q:\n%s", keep, all)
		}
	}
	if _, err := f.log.Verify(ctx); err != nil {
		t.Fatalf("Verify after redaction: %v", err)
	}
}

func TestFitEventIsFoundBySearch(t *testing.T) {
	f := open(t)
	ctx := context.Background()
	fit := audit.FitEvent(audit.FitInfo{User: "alice", App: "search", Into: "app:MyModel", Algo: "linear_regression",
		Container: "__dev__", Version: 3, Rows: 150, RequestID: "req-1", Time: time.Now()})
	if err := f.log.Record(ctx, fit); err != nil {
		t.Fatal(err)
	}
	other := audit.FitEvent(audit.FitInfo{User: "bob", App: "search", Into: "app:OtherModel", Algo: "x"})
	if err := f.log.Record(ctx, other); err != nil {
		t.Fatal(err)
	}
	svc := index.NewService(f.db, index.Options{})
	admin := access.WithPrincipal(ctx, &access.Principal{User: "admin", Indexes: []string{"*"}, Caps: access.CapSet{access.CapReadAudit: true}})
	var got []index.Event
	for e, err := range svc.Search(admin, index.Query{Indexes: []string{"_internal"}, Terms: []string{"mltk-container", "into=app:MyModel"}, Reverse: true}) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, e)
	}
	if len(got) != 1 {
		t.Fatalf("search found %d events, want 1: %+v", len(got), got)
	}
	e := got[0]
	if e.Sourcetype != "dockyard:audit" || e.Index != "_internal" || e.Fields["user"] != "alice" || e.Fields["into"] != "app:MyModel" || e.Fields["action"] != "model.fit" {
		t.Errorf("fit event = %+v", e)
	}
	t.Logf("fit event text: %s", e.Raw)
	// A user without read_audit finds nothing.
	user := access.WithPrincipal(ctx, &access.Principal{User: "bob", Indexes: []string{"*"}})
	for range svc.Search(user, index.Query{Indexes: []string{"_internal"}}) {
		t.Fatal("a user without read_audit read _internal")
	}
}

func TestKeyFileMustBePrivate(t *testing.T) {
	f := open(t)
	path := filepath.Join(f.dir, "audit", "ed25519.pem")
	if err := os.Chmod(path, 0o640); err != nil {
		t.Fatal(err)
	}
	if _, err := audit.Open(context.Background(), f.db, audit.Options{KeyFile: path}); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("Open with a group-readable key = %v, want a refusal saying chmod 600", err)
	}
	pemKey := audit.PublicKeyPEM(f.log.PublicKey())
	pub, err := audit.ParsePublicKey(pemKey)
	if err != nil || !pub.Equal(f.log.PublicKey()) {
		t.Fatalf("ParsePublicKey(PEM) = %v, %v", pub, err)
	}
}
