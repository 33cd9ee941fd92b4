package server_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/dockyard/dockyard/internal/access"
	"github.com/dockyard/dockyard/internal/server/servertest"
	"github.com/dockyard/dockyard/internal/wire"
)

// BenchmarkSyncLag measures push-based sync: the time from the last write
// of a notebook file on a running container's disk to its version being
// in the store (polled every 2 ms), with the passes of sync_interval off.
// It reports p50 and p99 (target p99 < 1 s).
//
//	go test ./internal/server/ -run '^$' -bench BenchmarkSyncLag -benchtime 100x
func BenchmarkSyncLag(b *testing.B) {
	ctx := context.Background()
	cfg := servertest.Config(b.TempDir())
	cfg.Containers.SyncInterval = time.Hour
	cfg.Containers.SyncWatchScan = 100 * time.Millisecond
	h := servertest.StartConfig(b, cfg)
	alice := h.User("alice", access.RoleContainerUser)
	if _, err := alice.StartContainer(ctx, "box", wire.ContainerStart{}); err != nil {
		b.Fatalf("start: %v", err)
	}
	dirs, _ := filepath.Glob(filepath.Join(h.Data, "containers", "*", "root", "notebooks"))
	if len(dirs) != 1 {
		b.Fatalf("container notebook dirs = %v", dirs)
	}
	p, err := h.Srv.Access().EffectivePrincipal(ctx, "alice", "")
	if err != nil {
		b.Fatal(err)
	}
	stored := func(sha string) bool {
		_, vs, err := h.Srv.Notebooks().History(ctx, p, "lag")
		return err == nil && len(vs) > 0 && vs[len(vs)-1].Digest == "sha256:"+sha
	}
	var lags []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		content := fmt.Sprintf("def fit(model, df, param):\n    return {'i': %d}\n", i)
		sum := sha256.Sum256([]byte(content))
		sha := hex.EncodeToString(sum[:])
		if err := os.WriteFile(filepath.Join(dirs[0], "lag.py"), []byte(content), 0o644); err != nil {
			b.Fatal(err)
		}
		t0 := time.Now()
		deadline := t0.Add(60 * time.Second)
		for !stored(sha) {
			if time.Now().After(deadline) {
				b.Fatalf("write %d not stored within a minute", i)
			}
			time.Sleep(2 * time.Millisecond)
		}
		lags = append(lags, time.Since(t0))
	}
	b.StopTimer()
	slices.Sort(lags)
	pct := func(q float64) time.Duration { return lags[min(len(lags)-1, int(q*float64(len(lags))))] }
	b.ReportMetric(float64(pct(0.50).Milliseconds()), "p50-ms")
	b.ReportMetric(float64(pct(0.99).Milliseconds()), "p99-ms")
	b.ReportMetric(float64(lags[len(lags)-1].Milliseconds()), "max-ms")
}
