package server_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/dockyard/dockyard/internal/client"
	"github.com/dockyard/dockyard/internal/store/sqlite"
	"github.com/dockyard/dockyard/internal/wire"
)

// TestCrashConsistency runs the real dockyard binary, drives it with model
// imports, lookup uploads, notebook pushes, HEC batches, account changes
// and (when Debian's python3 with pandas is there) fits, SIGKILLs it at
// random points, restarts it and checks that every acknowledged write
// survived, no model lacks a version, every change in the store has its
// audit event and `audit verify` passes. The seed is logged; set
// DOCKYARD_CRASH_SEED to replay one. -short runs 12 kills instead of 50.
func TestCrashConsistency(t *testing.T) {
	kills := 50
	if testing.Short() {
		kills = 12
	}
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("DOCKYARD_CRASH_SEED"); s != "" {
		var err error
		if seed, err = strconv.ParseUint(s, 10, 64); err != nil {
			t.Fatalf("DOCKYARD_CRASH_SEED %q: %v", s, err)
		}
	}
	t.Logf("crash seed %d (replay with DOCKYARD_CRASH_SEED=%d)", seed, seed)
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))

	tmp := t.TempDir()
	bin := filepath.Join(tmp, "dockyard")
	build := exec.Command("go", "build", "-o", bin, "../../cmd/dockyard")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	cs := &crashServer{t: t, bin: bin, data: filepath.Join(tmp, "data")}
	led := &ledger{}

	c := cs.start()
	ctx := context.Background()
	if _, err := c.CreateIndex(ctx, "crash"); err != nil {
		t.Fatal(err)
	}
	ht, err := c.CreateHECToken(ctx, wire.HECTokenRequest{Name: "crash", Indexes: []string{"crash"}})
	if err != nil {
		t.Fatal(err)
	}
	fits := fitsAvailable(t)
	if fits {
		if _, err := c.PushNotebook(ctx, "crashfit", "py", "", []byte(crashNotebook)); err != nil {
			t.Fatal(err)
		}
		if _, err := c.UploadLookup(ctx, "crashfit.csv", strings.NewReader(linearCSV(2, 1, 10))); err != nil {
			t.Fatal(err)
		}
	}
	for round := 0; round < kills; round++ {
		w := &workload{c: c, cs: cs, led: led, round: round, hecToken: ht.Token, fits: fits, seed: rng.Uint64()}
		stop := w.run()
		time.Sleep(time.Duration(50+rng.IntN(1200)) * time.Millisecond)
		cs.kill()
		stop()
		for _, e := range w.errs {
			t.Logf("round %d: not acknowledged: %s", round, e)
		}
		c = cs.start()
		led.check(t, c, round)
	}
	if v, err := c.AuditVerify(ctx); err != nil || !v.OK {
		t.Fatalf("after %d kills: audit verify = %+v, %v", kills, v, err)
	}
	if fits {
		cs.removeContainers(c)
	}
	cs.stop()
	led.checkStore(t, filepath.Join(cs.data, "dockyard.db"))
}

// crashNotebook is a tiny fit notebook that counts its rows.
const crashNotebook = `import json
import os

MODEL_DIRECTORY = "/srv/app/model/data/"

def init(df, param):
    return {}

def fit(model, df, param):
    model["n"] = len(df)
    return model

def apply(model, df, param):
    return df

def save(model, name):
    os.makedirs(MODEL_DIRECTORY, exist_ok=True)
    with open(os.path.join(MODEL_DIRECTORY, name + ".json"), "w") as f:
        json.dump(model, f)
    return model

def load(name):
    with open(os.path.join(MODEL_DIRECTORY, name + ".json")) as f:
        return json.load(f)

def summary(model):
    return {"n": model.get("n", 0)}
`

func fitsAvailable(t *testing.T) bool {
	if err := exec.Command("/usr/bin/python3", "-c", "import pandas").Run(); err != nil {
		t.Logf("fits are left out of the crash test: /usr/bin/python3 with pandas is not available (%v); apt-get install python3-pandas", err)
		return false
	}
	return true
}

// crashServer runs `dockyard server` as a child process.
type crashServer struct {
	t    *testing.T
	bin  string
	data string
	cmd  *exec.Cmd
	url  string
	ca   string
}

var listenRE = regexp.MustCompile(`Dockyard is listening on (\S+)`)
var caRE = regexp.MustCompile(`--ca-file (\S+)`)

func (s *crashServer) start() *client.Client {
	t := s.t
	t.Helper()
	cmd := exec.Command(s.bin, "server", "--data", s.data, "--addr", "127.0.0.1:0")
	cmd.Env = append(os.Environ(), "DOCKYARD_ADMIN_PASSWORD=crash-admin-password", "PATH=/usr/bin:"+os.Getenv("PATH"))
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	logf, err := os.OpenFile(filepath.Join(filepath.Dir(s.data), "server.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	cmd.Stderr = logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s.cmd = cmd
	found := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			line := sc.Text()
			if m := listenRE.FindStringSubmatch(line); m != nil {
				s.url = m[1]
			}
			if m := caRE.FindStringSubmatch(line); m != nil {
				s.ca = m[1]
				close(found)
			}
		}
		io.Copy(io.Discard, out)
	}()
	select {
	case <-found:
	case <-time.After(2 * time.Minute):
		s.kill()
		t.Fatalf("the server did not start within 2 minutes; see %s", filepath.Join(filepath.Dir(s.data), "server.log"))
	}
	c, err := client.New(client.Options{Server: s.url, CAFile: s.ca})
	if err != nil {
		t.Fatal(err)
	}
	res, err := c.Login(context.Background(), "admin", "crash-admin-password")
	if err != nil {
		t.Fatalf("login after start: %v", err)
	}
	c.SetToken(res.Token)
	return c
}

func (s *crashServer) kill() {
	s.cmd.Process.Signal(syscall.SIGKILL)
	s.cmd.Wait()
}

func (s *crashServer) stop() {
	s.cmd.Process.Signal(syscall.SIGTERM)
	s.cmd.Wait()
}

func (s *crashServer) removeContainers(c *client.Client) {
	cs, err := c.Containers(context.Background())
	if err != nil {
		s.t.Logf("list containers: %v", err)
		return
	}
	for _, ct := range cs {
		if err := c.RemoveContainer(context.Background(), ct.Name); err != nil {
			s.t.Logf("remove container %s: %v", ct.Name, err)
		}
	}
}

func (s *crashServer) httpClient() *http.Client {
	pem, err := os.ReadFile(s.ca)
	if err != nil {
		s.t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	return &http.Client{Timeout: time.Minute, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
}

// ledger holds the writes the server acknowledged.
type ledger struct {
	mu        sync.Mutex
	models    map[string]int // model name -> highest acknowledged version
	lookups   map[string]string
	notebooks map[string]string
	users     map[string]bool // true: exists, false: deleted
	batches   []string
	round     []string // what the last round acknowledged, for the message
}

func (l *ledger) ack(kind, name string, f func()) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.models == nil {
		l.models, l.lookups, l.notebooks, l.users = map[string]int{}, map[string]string{}, map[string]string{}, map[string]bool{}
	}
	f()
	l.round = append(l.round, kind+" "+name)
}

// check verifies, on the restarted server, every acknowledged write.
func (l *ledger) check(t *testing.T, c *client.Client, round int) {
	t.Helper()
	ctx := context.Background()
	l.mu.Lock()
	defer l.mu.Unlock()
	kinds := map[string]int{}
	for _, r := range l.round {
		k, _, _ := strings.Cut(r, " ")
		kinds[k]++
	}
	t.Logf("round %d: %d writes acknowledged before the kill: %v", round, len(l.round), kinds)
	l.round = nil
	for name, v := range l.models {
		vs, err := c.ModelVersions(ctx, name)
		if err != nil || len(vs) == 0 || vs[0].Version < v {
			t.Fatalf("round %d: model %s: acknowledged version %d, server has %+v, %v", round, name, v, vs, err)
		}
	}
	for name, d := range l.lookups {
		if lk, err := c.Lookup(ctx, name); err != nil || lk.Digest != d {
			t.Fatalf("round %d: lookup %s: acknowledged %s, server has %+v, %v", round, name, d, lk, err)
		}
	}
	for name, d := range l.notebooks {
		if nb, err := c.Notebook(ctx, name); err != nil || nb.Digest != d {
			t.Fatalf("round %d: notebook %s: acknowledged %s, server has %+v, %v", round, name, d, nb, err)
		}
	}
	us, err := c.Users(ctx)
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, u := range us {
		have[u.Name] = true
	}
	for name, exists := range l.users {
		if have[name] != exists {
			t.Fatalf("round %d: user %s: acknowledged exists=%v, server says %v", round, name, exists, have[name])
		}
	}
	page, err := c.Models(ctx, client.ModelFilter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range page.Models {
		if m.Current == 0 {
			t.Fatalf("round %d: model %s has no version after a crash", round, m.Name)
		}
	}
	if round%5 == 4 {
		if v, err := c.AuditVerify(ctx); err != nil || !v.OK {
			t.Fatalf("round %d: audit verify = %+v, %v", round, v, err)
		}
	}
}

// checkStore opens the stopped server's database and checks that every
// change in it has its audit event, and that every acknowledged HEC batch
// is there.
func (l *ledger) checkStore(t *testing.T, path string) {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	q := db.SQL()
	events := map[string]bool{} // "action object [version]"
	rows, err := q.Query(`SELECT body FROM audit_chain`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var body string
		rows.Scan(&body)
		var e struct {
			Action  string         `json:"action"`
			Object  string         `json:"object"`
			Details map[string]any `json:"details"`
		}
		if err := json.Unmarshal([]byte(body), &e); err != nil {
			t.Fatal(err)
		}
		name := e.Object[strings.LastIndexAny(e.Object, "/:")+1:]
		events[e.Action+" "+name] = true
		if v, ok := e.Details["version"]; ok {
			events[fmt.Sprintf("%s %s %v", e.Action, name, v)] = true
		}
	}
	rows.Close()
	want := func(query, action string, withVersion bool) {
		t.Helper()
		rows, err := q.Query(query)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		n := 0
		for rows.Next() {
			var name string
			var v int
			if withVersion {
				rows.Scan(&name, &v)
			} else {
				rows.Scan(&name)
			}
			key := action + " " + name
			if withVersion {
				key = fmt.Sprintf("%s %d", key, v)
			}
			if !events[key] {
				t.Errorf("the store holds %q but the audit chain has no event for it", key)
			}
			n++
		}
		t.Logf("%d %s changes in the store, each with its audit event", n, action)
	}
	want(`SELECT name FROM models`, "model.create", false)
	want(`SELECT m.name, v.version FROM model_versions v JOIN models m ON m.id = v.model_id`, "model.version.create", true)
	want(`SELECT name FROM lookups`, "lookup.upload", false)
	want(`SELECT name FROM notebooks`, "notebook.push", false)
	want(`SELECT name FROM users WHERE name <> 'admin'`, "user.create", false)
	var empty int
	if err := q.QueryRow(`SELECT count(*) FROM models m WHERE NOT EXISTS (SELECT 1 FROM model_versions v WHERE v.model_id = m.id)`).Scan(&empty); err != nil || empty != 0 {
		t.Errorf("%d models without a version (%v)", empty, err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, b := range l.batches {
		var n int
		if err := q.QueryRow(`SELECT count(*) FROM events WHERE idx = 'crash' AND raw LIKE ?`, "%"+b+"%").Scan(&n); err != nil || n != 5 {
			t.Errorf("HEC batch %s was acknowledged but %d of its 5 events are stored (%v)", b, n, err)
		}
	}
	t.Logf("%d acknowledged HEC batches all stored", len(l.batches))
}
