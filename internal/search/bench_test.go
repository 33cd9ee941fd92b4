package search

import (
	"context"
	"runtime/metrics"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkMakeresultsEvalStats pipes 1,000,000 rows from makeresults
// through streamstats, eval and stats, and reports rows per second and the
// peak heap in use (sampled every millisecond while the search runs).
func BenchmarkMakeresultsEvalStats(b *testing.B) {
	const rows = 1_000_000
	src := "| makeresults count=1000000 | streamstats count as i | eval s = i % 3, x = i * 2 + 1 | stats count, avg(x), max(i) by s"
	var peak atomic.Uint64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		// runtime/metrics reads without stopping the world, unlike
		// runtime.ReadMemStats, so sampling does not slow the search.
		sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				metrics.Read(sample)
				if v := sample[0].Value.Uint64(); v > peak.Load() {
					peak.Store(v)
				}
			}
		}
	}()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		res, err := Collect(context.Background(), src, &Env{})
		if err != nil {
			b.Fatal(err)
		}
		if len(res.Rows) != 3 {
			b.Fatalf("got %d rows", len(res.Rows))
		}
	}
	b.StopTimer()
	close(stop)
	<-done
	b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(float64(peak.Load())/(1<<20), "peak-heap-MiB")
}
