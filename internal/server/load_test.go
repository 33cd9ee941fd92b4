package server_test

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dockyard/dockyard/internal/client"
	"github.com/dockyard/dockyard/internal/server/servertest"
	"github.com/dockyard/dockyard/internal/store"
	"github.com/dockyard/dockyard/internal/wire"
)

// probe records the latencies of one kind of prober call.
type probe struct {
	mu   sync.Mutex
	lat  []time.Duration
	errs atomic.Int64
}

func (p *probe) add(d time.Duration, err error) {
	if err != nil {
		p.errs.Add(1)
		return
	}
	p.mu.Lock()
	p.lat = append(p.lat, d)
	p.mu.Unlock()
}

// summary is "n=N p50=X p99=Y max=Z errors=E".
func (p *probe) summary() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	l := slices.Clone(p.lat)
	slices.Sort(l)
	if len(l) == 0 {
		return fmt.Sprintf("n=0 errors=%d", p.errs.Load())
	}
	pct := func(q float64) time.Duration { return l[int(math.Ceil(q*float64(len(l))))-1] }
	ms := func(d time.Duration) string { return strconv.FormatFloat(float64(d)/1e6, 'f', 1, 64) + "ms" }
	return fmt.Sprintf("n=%d p50=%s p99=%s max=%s errors=%d", len(l), ms(pct(0.50)), ms(pct(0.99)), ms(l[len(l)-1]), p.errs.Load())
}

func loadavg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	return strings.TrimSpace(string(b))
}

// runProber calls GET /v1/models and posts one HEC event every 100 ms,
// each call in its own goroutine (a slow answer does not delay the next
// call, so it cannot hide queueing), until ctx ends.
func runProber(ctx context.Context, h *servertest.Harness, hc *http.Client, hecToken string, models, hec *probe) {
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	var wg sync.WaitGroup
	defer wg.Wait()
	for i := 0; ; i++ {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		wg.Add(2)
		go func() {
			defer wg.Done()
			start := time.Now()
			_, err := h.Admin.Models(context.Background(), client.ModelFilter{})
			models.add(time.Since(start), err)
		}()
		go func() {
			defer wg.Done()
			start := time.Now()
			body := fmt.Sprintf(`{"event": "probe %d action=probe", "index": "main"}`, i)
			req, _ := http.NewRequest("POST", h.Srv.URL()+"/services/collector/event", strings.NewReader(body))
			req.Header.Set("Authorization", "Splunk "+hecToken)
			resp, err := hc.Do(req)
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode != 200 {
					err = fmt.Errorf("HEC answered %s", resp.Status)
				}
			}
			hec.add(time.Since(start), err)
		}()
	}
}

// TestSearchLoadFairness is the fair-database-access load test: N events
// (DOCKYARD_LOAD_EVENTS, e.g. 1000000; skipped when unset) in index main,
// then a prober alone for 10 s, then 12 concurrent index searches (half a
// full scan, half a full-text term) running for DOCKYARD_LOAD_SECONDS
// (default 60) with the prober still going. It prints the prober's p50
// and p99 for both phases; it asserts nothing about time (the numbers go
// to bench/RESULTS.md), only that the probes and searches succeed.
func TestSearchLoadFairness(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("DOCKYARD_LOAD_EVENTS"))
	if n <= 0 {
		t.Skip("set DOCKYARD_LOAD_EVENTS=1000000 to run the search load test")
	}
	secs, _ := strconv.Atoi(os.Getenv("DOCKYARD_LOAD_SECONDS"))
	if secs <= 0 {
		secs = 60
	}
	h := servertest.Start(t)
	ctx := context.Background()

	start := time.Now()
	base := start.Add(-2 * time.Hour)
	actions := []string{"login", "search", "model.fit", "container.start", "logout"}
	const batch = 10_000
	for lo := 0; lo < n; lo += batch {
		evs := make([]store.EventRecord, 0, batch)
		for i := lo; i < min(n, lo+batch); i++ {
			evs = append(evs, store.EventRecord{Index: "main", Time: base.Add(time.Duration(i) * time.Millisecond),
				Host: fmt.Sprintf("web%d", i%50), Source: "load", Sourcetype: "kv",
				Raw: fmt.Sprintf(`host=web%d action=%s user=user%d status=%d bytes=%d path=/app/page%d msg="request served" id=%d`,
					i%50, actions[i%len(actions)], i%1000, 200+i%5, i*7%100000, i%300, i)})
		}
		if err := h.Srv.Store().InsertEvents(ctx, evs); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("loaded %d events in %s", n, time.Since(start).Round(time.Millisecond))

	tok, err := h.Admin.CreateHECToken(ctx, wire.HECTokenRequest{Name: "probe", Indexes: []string{"main"}})
	if err != nil {
		t.Fatal(err)
	}
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: tlsConfig(t, h)}}

	// Phase 1: the prober alone.
	var idleModels, idleHEC probe
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	runProber(pctx, h, hc, tok.Token, &idleModels, &idleHEC)
	cancel()

	// Phase 2: 12 searches, each run again as soon as it ends, and the prober.
	searches := []string{"search index=main | stats count", "search index=main login | stats count"}
	lctx, cancel := context.WithTimeout(ctx, time.Duration(secs)*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	var done, failed, rows atomic.Int64
	var firstErr atomic.Value
	for i := range 12 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for lctx.Err() == nil {
				res, err := h.Admin.Search(lctx, searches[i%2], "", client.SearchHandler{})
				switch {
				case lctx.Err() != nil:
				case err != nil:
					failed.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
				default:
					done.Add(1)
					rows.Add(int64(res.Rows))
				}
			}
		}()
	}
	loadBefore, stats0 := loadavg(), h.Srv.SQLite().SQL().Stats()
	var models, hec probe
	runProber(lctx, h, hc, tok.Token, &models, &hec)
	loadAfter, stats1 := loadavg(), h.Srv.SQLite().SQL().Stats()
	wg.Wait()

	report := fmt.Sprintf(`search load: %d events, 12 concurrent searches for %ds, GOMAXPROCS=%d NumCPU=%d
prober alone (10s): GET /v1/models %s | HEC post %s
under load (%ds):   GET /v1/models %s | HEC post %s
searches completed: %d, failed: %d (first error: %v)
waits for a database connection under load: %d, %s in all
loadavg at start of load: %s; at end: %s
`, n, secs, runtime.GOMAXPROCS(0), runtime.NumCPU(), idleModels.summary(), idleHEC.summary(), secs, models.summary(), hec.summary(),
		done.Load(), failed.Load(), firstErr.Load(), stats1.WaitCount-stats0.WaitCount, stats1.WaitDuration-stats0.WaitDuration, loadBefore, loadAfter)
	fmt.Print(report)
	t.Log(report)
	if models.errs.Load() > 0 || hec.errs.Load() > 0 || idleModels.errs.Load() > 0 || idleHEC.errs.Load() > 0 || failed.Load() > 0 {
		t.Errorf("calls failed under load")
	}
}
