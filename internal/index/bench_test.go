package index

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/dockyard/dockyard/internal/access"
	"github.com/dockyard/dockyard/internal/store/sqlite"
)

// benchEvent returns the i-th synthetic event: a key=value line; one in
// 10,000 carries the rare term "needle".
func benchEvent(i int) (raw string, t time.Time) {
	actions := []string{"login", "search", "model.fit", "container.start", "logout"}
	extra := ""
	if i%10000 == 42 {
		extra = " needle"
	}
	t = time.Unix(1700000000, 0).Add(time.Duration(i) * time.Millisecond).UTC()
	raw = fmt.Sprintf(`host=web%d action=%s user=user%d status=%d bytes=%d path=/app/page%d msg="request served"%s id=%d`,
		i%50, actions[i%len(actions)], i%1000, 200+i%5, i*7%100000, i%300, extra, i)
	return raw, t
}

// BenchmarkEvents1M measures, on N events (DOCKYARD_BENCH_EVENTS, e.g.
// 1000000; skipped when unset): durable HEC ingest in batches of 1,000
// over HTTP, a plain batched SQLite insert loop of the same events (same
// batch size, synchronous=FULL, no full-text index) for the ratio, and
// search latency for a rare term, a common term and a phrase. Run with
// -benchtime 1x: one iteration does everything once.
func BenchmarkEvents1M(b *testing.B) {
	n, _ := strconv.Atoi(os.Getenv("DOCKYARD_BENCH_EVENTS"))
	if n <= 0 {
		b.Skip("set DOCKYARD_BENCH_EVENTS=1000000 to run the 1M-event benchmark")
	}
	const batch = 1000
	ctx := context.Background()
	dir := b.TempDir()
	db, err := sqlite.Open(ctx, filepath.Join(dir, "dockyard.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	svc := NewService(db, Options{Host: "bench"})
	admin := access.WithPrincipal(ctx, &access.Principal{User: "admin", Indexes: []string{"*"}, Caps: access.CapSet{access.CapEditIndexes: true}})
	if _, err := svc.CreateIndex(admin, "bench"); err != nil {
		b.Fatal(err)
	}
	tok, err := svc.CreateHECToken(admin, "bench", []string{"bench"}, "")
	if err != nil {
		b.Fatal(err)
	}
	h, _ := NewHEC(svc, HECOptions{MaxBodyBytes: 64 << 20})
	srv := httptest.NewServer(h)
	defer srv.Close()

	for b.Loop() {
		// 1. HEC ingest.
		start := time.Now()
		var body bytes.Buffer
		for i := 0; i < n; i += batch {
			body.Reset()
			for j := i; j < min(i+batch, n); j++ {
				raw, t := benchEvent(j)
				fmt.Fprintf(&body, `{"time":%d.%03d,"sourcetype":"bench","event":%q}`+"\n", t.Unix(), t.Nanosecond()/1e6, raw)
			}
			req, _ := http.NewRequest(http.MethodPost, srv.URL+"/services/collector/event", &body)
			req.Header.Set("Authorization", "Splunk "+tok.Token)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != 200 {
				b.Fatalf("HEC answered %d", resp.StatusCode)
			}
		}
		hecDur := time.Since(start)

		// 2. Plain batched SQLite insert loop of the same events.
		plainDur := plainInsert(b, filepath.Join(dir, "plain.db"), n, batch)

		// 3. Search latency.
		lat := func(q Query) (time.Duration, int) {
			var ds []time.Duration
			hits := 0
			for r := 0; r < 7; r++ {
				t0 := time.Now()
				hits = 0
				for _, err := range svc.Search(admin, q) {
					if err != nil {
						b.Fatal(err)
					}
					hits++
				}
				ds = append(ds, time.Since(t0))
			}
			slices.Sort(ds)
			return ds[len(ds)/2], hits
		}
		rare, rareHits := lat(Query{Indexes: []string{"bench"}, Terms: []string{"needle"}, Reverse: true})
		common, commonHits := lat(Query{Indexes: []string{"bench"}, Terms: []string{"user42"}, Reverse: true, Limit: 100})
		phrase, phraseHits := lat(Query{Indexes: []string{"bench"}, Terms: []string{"action=model.fit", "host=web7"}, Reverse: true, Limit: 100})
		kv, kvHits := lat(Query{Indexes: []string{"bench"}, Terms: []string{"id=777777"}})

		hecRate := float64(n) / hecDur.Seconds()
		plainRate := float64(n) / plainDur.Seconds()
		b.ReportMetric(hecRate, "hec-events/s")
		b.ReportMetric(plainRate, "plain-events/s")
		b.ReportMetric(plainRate/hecRate, "plain/hec")
		b.ReportMetric(float64(rare.Microseconds())/1000, "rare-term-ms")
		b.ReportMetric(float64(common.Microseconds())/1000, "common-term-limit100-ms")
		b.Logf("events=%d batch=%d", n, batch)
		b.Logf("HEC ingest (HTTP, JSON, FTS5, durable): %v = %.0f events/s", hecDur.Round(time.Millisecond), hecRate)
		b.Logf("plain batched SQLite insert loop (no FTS, durable): %v = %.0f events/s; ratio plain/HEC = %.2f", plainDur.Round(time.Millisecond), plainRate, plainRate/hecRate)
		b.Logf("search rare term 'needle' (all %d hits, newest first): median %v", rareHits, rare)
		b.Logf("search common term 'user42' (%d of %d hits, limit 100, newest first): median %v", commonHits, n/1000, common)
		b.Logf("search two phrases 'action=model.fit' 'host=web7' (limit 100): %d hits, median %v", phraseHits, phrase)
		b.Logf("search unique phrase 'id=777777': %d hits, median %v", kvHits, kv)
	}
}

// plainInsert inserts the same n events into a fresh plain table with
// prepared statements in transactions of batch rows, synchronous=FULL.
func plainInsert(b *testing.B, path string, n, batch int) time.Duration {
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=busy_timeout(10000)")
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`CREATE TABLE events (id INTEGER PRIMARY KEY, idx TEXT NOT NULL, time_ns INTEGER NOT NULL,
		host TEXT, source TEXT, sourcetype TEXT, raw TEXT NOT NULL, fields TEXT)`); err != nil {
		b.Fatal(err)
	}
	if _, err := db.Exec(`CREATE INDEX events_idx_time ON events(idx, time_ns)`); err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	for i := 0; i < n; i += batch {
		tx, err := db.Begin()
		if err != nil {
			b.Fatal(err)
		}
		st, err := tx.Prepare(`INSERT INTO events(idx, time_ns, host, source, sourcetype, raw, fields) VALUES (?, ?, ?, ?, ?, ?, '')`)
		if err != nil {
			b.Fatal(err)
		}
		for j := i; j < min(i+batch, n); j++ {
			raw, t := benchEvent(j)
			if _, err := st.Exec("bench", t.UnixNano(), "127.0.0.1", "http:bench", "bench", raw); err != nil {
				b.Fatal(err)
			}
		}
		st.Close()
		if err := tx.Commit(); err != nil {
			b.Fatal(err)
		}
	}
	return time.Since(start)
}
