package server_test

import (
	"context"
	"fmt"
	"os/exec"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dockyard/dockyard/internal/access"
	"github.com/dockyard/dockyard/internal/server/servertest"
)

// noopNotebook saves a tiny file and predicts 0 for every row.
const noopNotebook = `import json, os
MODEL_DIRECTORY = "/srv/app/model/data/"
def init(df, param):
    return {}
def fit(model, df, param):
    return {"rows": len(df)}
def save(model, name):
    os.makedirs(MODEL_DIRECTORY, exist_ok=True)
    with open(os.path.join(MODEL_DIRECTORY, name + ".json"), "w") as f:
        json.dump(model, f)
def load(name):
    return {}
def apply(model, df, param):
    try:
        import pandas as pd
        if isinstance(df, pd.DataFrame):
            return pd.DataFrame({"p": [0] * len(df)})
    except ImportError:
        pass
    return [{"p": 0} for _ in df]
`

// BenchmarkFitThroughSearch fits the do-nothing notebook on N rows of four
// numeric columns made by the search itself, through the whole path: search
// API, ml (CSV stream, spool, merge), agent, python runner, registry. It
// reports rows per second and how far the server's Go heap grew above
// its level before the fit (the server runs in
// this process; the agent and python are other processes).
func BenchmarkFitThroughSearch(b *testing.B) {
	if _, err := exec.LookPath("python3"); err != nil {
		b.Skip("python3 is not installed: the notebook runner needs it")
	}
	for _, n := range []int{10_000, 100_000} {
		b.Run(fmt.Sprintf("rows=%d", n), func(b *testing.B) {
			ctx := context.Background()
			h := servertest.Start(b)
			alice := h.User("alice", access.RoleContainerUser)
			if _, err := alice.PushNotebook(ctx, "noop", "py", "", []byte(noopNotebook)); err != nil {
				b.Fatal(err)
			}
			spl := fmt.Sprintf("| makeresults count=%d | streamstats count as a | eval b=a*2, c=a%%7, d=a/3 | fit MLTKContainer algo=noop d from a b c into Bench | stats count", n)
			runtime.GC()
			var base runtime.MemStats
			runtime.ReadMemStats(&base)
			var peak atomic.Uint64
			stop := make(chan struct{})
			go func() {
				var ms runtime.MemStats
				for {
					select {
					case <-stop:
						return
					case <-time.After(20 * time.Millisecond):
					}
					runtime.ReadMemStats(&ms)
					if ms.HeapInuse > peak.Load() {
						peak.Store(ms.HeapInuse)
					}
				}
			}()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := alice.SearchAll(ctx, spl, ""); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			close(stop)
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
			b.ReportMetric(float64(peak.Load()-min(peak.Load(), base.HeapInuse))/(1<<20), "peak_heap_growth_MB")
		})
	}
}
