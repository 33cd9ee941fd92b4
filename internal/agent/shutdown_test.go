package agent_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dockyard/dockyard/internal/agent"
	"github.com/dockyard/dockyard/internal/agent/agentclient"
	"github.com/dockyard/dockyard/internal/agent/agenttest"
	"github.com/dockyard/dockyard/internal/agent/internal/testlog"
)

// procGone reports whether pid has ended (gone, or a zombie nobody reaped).
func procGone(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	i := strings.LastIndexByte(string(b), ')')
	return i > 0 && len(b) > i+2 && (b[i+2] == 'Z' || b[i+2] == 'X')
}

// Stopping the agent while a notebook runs ends the notebook (and what it
// started) and the agent at once; it must not wait for the notebook.
func TestStopEndsABusyNotebook(t *testing.T) {
	py := bare(t)
	ca := agenttest.NewCA(t)
	dir := t.TempDir()
	certPEM, keyPEM, err := ca.IssueServer("agent", []string{"127.0.0.1"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	_ = os.WriteFile(certFile, certPEM, 0o600)
	_ = os.WriteFile(keyFile, keyPEM, 0o600)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	errc := make(chan error, 1)
	go func() {
		errc <- agent.Run(ctx, agent.Config{Listener: ln, CertFile: certFile, KeyFile: keyFile, Token: "tok",
			Root: filepath.Join(dir, "root"), Python: py, Logger: testlog.New(t)})
	}()
	c := agentclient.New("https://"+ln.Addr().String(), "tok", ca.Client())
	cctx, ccancel := context.WithTimeout(context.Background(), 60*time.Second) // outlives the agent's ctx
	defer ccancel()
	for c.Healthy(cctx) != nil {
		select {
		case err := <-errc:
			t.Fatalf("agent stopped: %v", err)
		case <-cctx.Done():
			t.Fatal("agent not healthy")
		case <-time.After(20 * time.Millisecond):
		}
	}
	if _, err := c.PutNotebook(cctx, "hang.py", []byte(`import subprocess, sys, time
def init(df, p):
    return {}
def fit(m, df, p):
    child = subprocess.Popen(["sleep", "3600"])
    print("child", child.pid)
    sys.stdout.flush()
    time.sleep(3600)
def apply(m, df, p):
    return df
`)); err != nil {
		t.Fatal(err)
	}
	info, err := c.Info(cctx)
	if err != nil || info.RunnerPID == 0 {
		t.Fatalf("info: %+v, %v", info, err)
	}
	child := make(chan int, 1)
	done := make(chan agent.Frame, 1)
	go func() {
		f, err := c.FitStream(cctx, json.RawMessage(`{"options":{"params":{"algo":"hang"},"model_name":"M"}}`), strings.NewReader("a\n1\n"),
			func(f agent.Frame) {
				if n, ok := strings.CutPrefix(f.Line, "child "); ok && f.Type == "log" {
					pid, _ := strconv.Atoi(n)
					child <- pid
				}
			})
		if err != nil {
			f = agent.Frame{Status: "transport error", Message: err.Error()}
		}
		done <- f
	}()
	var childPid int
	select {
	case childPid = <-child:
	case f := <-done:
		t.Fatalf("fit ended before the notebook started its child: %+v", f)
	}
	cancel() // SIGTERM
	select {
	case err := <-errc:
		if err != nil {
			t.Errorf("agent.Run: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("agent.Run did not return while a notebook ran: the stop waits for the notebook")
	}
	f := <-done
	if f.Status != "error" || !strings.Contains(f.Message, "shutting down") {
		t.Errorf("the fit in progress ended with %+v; want an error saying the agent is shutting down", f)
	}
	for _, pid := range []int{info.RunnerPID, childPid} {
		for i := 0; !procGone(pid) && i < 250; i++ {
			time.Sleep(20 * time.Millisecond)
		}
		if !procGone(pid) {
			t.Errorf("process %d (runner %d, notebook child %d) outlived the agent", pid, info.RunnerPID, childPid)
		}
	}
}
