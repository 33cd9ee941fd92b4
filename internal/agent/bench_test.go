package agent_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dockyard/dockyard/internal/agent"
	"github.com/dockyard/dockyard/internal/agent/agentclient"
	"github.com/dockyard/dockyard/internal/agent/agenttest"
	"github.com/dockyard/dockyard/internal/runtime"
	"github.com/dockyard/dockyard/internal/runtime/process"
)

// BenchmarkAgent fits and applies the do-nothing notebook testdata/noop.py
// with N rows of four numeric columns through the one-request CSV-in-JSON
// endpoints (/fit, /apply) and the streaming ones (/v1/*/stream). Each case
// runs in a fresh agent process (started by the process runtime) so that
// its peak memory, and that of its Python runner, can be read from
// /proc/<pid>/status (VmHWM). Run with:
//
//	go test ./internal/agent -run '^$' -bench BenchmarkAgent -benchtime 1x
func BenchmarkAgent(b *testing.B) {
	if exec.Command("/usr/bin/python3", "-c", "import pandas").Run() != nil {
		b.Skip("/usr/bin/python3 cannot import pandas; install python3-pandas")
	}
	sizes := []int{10_000, 100_000, 1_000_000}
	if s := os.Getenv("DOCKYARD_BENCH_ROWS"); s != "" {
		sizes = nil
		for _, f := range strings.Split(s, ",") {
			n, _ := strconv.Atoi(f)
			sizes = append(sizes, n)
		}
	}
	for _, n := range sizes {
		csv := makeCSV(n)
		for _, mode := range []string{"json", "stream"} {
			for _, op := range []string{"fit", "apply"} {
				b.Run(fmt.Sprintf("%s/%s/rows=%d", mode, op, n), func(b *testing.B) {
					benchCase(b, mode, op, n, csv)
				})
			}
		}
	}
}

func makeCSV(n int) []byte {
	var buf bytes.Buffer
	buf.Grow(n * 40)
	buf.WriteString("a,b,c,d\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&buf, "%d,%d.5,%d.25,%d\n", i, i%97, i%13, i*3)
	}
	return buf.Bytes()
}

func benchCase(b *testing.B, mode, op string, n int, csv []byte) {
	ctx := context.Background()
	ca := agenttest.NewCA(b)
	rt, err := process.New(process.Config{BaseDir: b.TempDir(), Issuer: ca, Python: "/usr/bin/python3",
		Command: func(args []string) *exec.Cmd {
			cmd := exec.Command(os.Args[0], args...)
			cmd.Env = []string{"DOCKYARD_TEST_AGENT=1"}
			return cmd
		}})
	if err != nil {
		b.Fatal(err)
	}
	nb, err := os.ReadFile("testdata/noop.py")
	if err != nil {
		b.Fatal(err)
	}
	c, err := rt.Create(ctx, runtime.Spec{Name: "bench", Files: map[string][]byte{"notebooks/noop.py": nb}})
	if err != nil {
		b.Fatal(err)
	}
	defer rt.Remove(ctx, c.ID)
	if err := rt.Start(ctx, c.ID); err != nil {
		b.Fatal(err)
	}
	c, _ = rt.Inspect(ctx, c.ID)
	cl := agentclient.New(c.Endpoint, c.Token, ca.Client())
	meta := json.RawMessage(`{"options":{"params":{"algo":"noop"},"model_name":"B"},"feature_variables":["a","b","c","d"]}`)
	if _, err := cl.Fit(ctx, meta, "a,b,c,d\n1,2,3,4\n"); err != nil { // warm: pandas imported, connection open
		b.Fatal(err)
	}
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		var rows, out int
		var status, msg string
		switch mode {
		case "json":
			call := cl.Fit
			if op == "apply" {
				call = cl.Apply
			}
			ans, err := call(ctx, meta, string(csv))
			if err != nil {
				b.Fatal(err)
			}
			rows, out, status, msg = ans.Rows, ans.ResultRows, ans.Status, ans.Message
		default:
			call := cl.FitStream
			if op == "apply" {
				call = cl.ApplyStream
			}
			var tUp, tRes time.Duration
			t0 := time.Now()
			done, err := call(ctx, meta, bytes.NewReader(csv), func(f agent.Frame) {
				if f.Type == "progress" && f.Rows == int64(n) && tUp == 0 {
					tUp = time.Since(t0)
				}
				if f.Type == "results" && tRes == 0 {
					tRes = time.Since(t0)
				}
			})
			if os.Getenv("DOCKYARD_BENCH_PHASES") != "" {
				b.Logf("upload done %v, first results %v, done %v; runner %v", tUp, tRes, time.Since(t0), done.Timings)
			}
			if err != nil {
				b.Fatal(err)
			}
			rows, out, status, msg = int(done.Rows), done.ResultRows, done.Status, done.Message
		}
		if status != "success" || rows != n || out != n {
			b.Fatalf("%s %s: status %s, %d rows in, %d out: %s", mode, op, status, rows, out, msg)
		}
	}
	elapsed := time.Since(start)
	b.StopTimer()
	info, err := cl.Info(ctx)
	if err != nil {
		b.Fatal(err)
	}
	agentPeak, runnerPeak := vmHWM(info.PID), vmHWM(info.RunnerPID)
	b.ReportMetric(float64(n)*float64(b.N)/elapsed.Seconds(), "rows/s")
	b.ReportMetric(agentPeak/1024, "agent-peak-MB")
	b.ReportMetric(runnerPeak/1024, "runner-peak-MB")
	b.ReportMetric((agentPeak+runnerPeak)/1024, "total-peak-MB")
	b.ReportMetric(float64(info.GoSys)/(1<<20), "agent-go-sys-MB")
}

// vmHWM returns the peak resident set size of pid in KiB.
func vmHWM(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			f, _ := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 64)
			return f
		}
	}
	return 0
}
