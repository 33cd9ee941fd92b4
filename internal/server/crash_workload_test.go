package server_test

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/dockyard/dockyard/internal/blob"
	"github.com/dockyard/dockyard/internal/client"
	"github.com/dockyard/dockyard/internal/wire"
)

// workload is one round of writes against the server until it is killed:
// each worker loops over its kind of write and records in the ledger only
// what the server acknowledged.
type workload struct {
	c        *client.Client
	cs       *crashServer
	led      *ledger
	round    int
	hecToken string
	fits     bool
	seed     uint64

	mu   sync.Mutex
	errs []string
}

// failed notes why a write was not acknowledged (the kill, mostly) and
// returns false.
func (w *workload) failed(kind string, err error) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.errs = append(w.errs, kind+": "+err.Error())
	return false
}

// run starts the workers and returns a function that waits for them once
// the server is gone.
func (w *workload) run() (wait func()) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	workers := []func(ctx context.Context, rng *rand.Rand, i int) bool{w.importModel, w.uploadLookup, w.pushNotebook, w.hecBatch, w.accountChange}
	if w.fits {
		workers = append(workers, w.fit)
	}
	for k, work := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(w.seed, uint64(k)))
			for i := 0; ctx.Err() == nil; i++ {
				if !work(ctx, rng, i) {
					return // the server is gone
				}
			}
		}()
	}
	return func() {
		cancel()
		wg.Wait()
	}
}

func (w *workload) name(prefix string, i int) string {
	return fmt.Sprintf("%s%d_%d", prefix, w.round, i)
}

// importModel imports a new model, or a new version of an earlier one.
func (w *workload) importModel(ctx context.Context, rng *rand.Rand, i int) bool {
	name := w.name("m", i)
	if i > 0 && rng.IntN(3) == 0 {
		name = w.name("m", rng.IntN(i))
	}
	dir, err := os.MkdirTemp("", "crash-model-")
	if err != nil {
		return false
	}
	defer os.RemoveAll(dir)
	body := fmt.Sprintf("model %s %d %d\n%s", name, i, rng.Int64(), strings.Repeat("w", rng.IntN(64<<10)))
	if err := os.WriteFile(filepath.Join(dir, "model.bin"), []byte(body), 0o600); err != nil {
		return false
	}
	v, _, err := w.c.ImportModelDir(ctx, name, dir, "LinearRegression")
	if err != nil {
		return w.failed("model import", err)
	}
	w.led.ack("model", name, func() {
		if v.Version > w.led.models[name] {
			w.led.models[name] = v.Version
		}
	})
	return true
}

func (w *workload) uploadLookup(ctx context.Context, rng *rand.Rand, i int) bool {
	name := w.name("l", i) + ".csv"
	body := fmt.Sprintf("k,v\n%s,%d\n", name, rng.Int64())
	lk, err := w.c.UploadLookup(ctx, name, strings.NewReader(body))
	if err != nil {
		return w.failed("lookup upload", err)
	}
	w.led.ack("lookup", name, func() { w.led.lookups[name] = lk.Digest })
	return true
}

func (w *workload) pushNotebook(ctx context.Context, rng *rand.Rand, i int) bool {
	name := w.name("nb", i)
	body := []byte(fmt.Sprintf("# %s %d\ndef init(df, param):\n    return {}\n", name, rng.Int64()))
	if _, err := w.c.PushNotebook(ctx, name, "py", "", body); err != nil {
		return w.failed("notebook push", err)
	}
	d := string(blob.FromBytes(body))
	w.led.ack("notebook", name, func() { w.led.notebooks[name] = d })
	return true
}

// hecBatch posts five events that carry the batch's marker.
func (w *workload) hecBatch(ctx context.Context, rng *rand.Rand, i int) bool {
	marker := fmt.Sprintf("crashbatch%d_%d_%d", w.round, i, rng.Uint32())
	var b strings.Builder
	for n := 0; n < 5; n++ {
		fmt.Fprintf(&b, `{"event":"%s event %d"}`, marker, n)
	}
	req, err := http.NewRequestWithContext(ctx, "POST", w.cs.url+"/services/collector/event", strings.NewReader(b.String()))
	if err != nil {
		return false
	}
	req.Header.Set("Authorization", "Splunk "+w.hecToken)
	resp, err := w.cs.httpClient().Do(req)
	if err != nil {
		return w.failed("hec", err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return w.failed("hec", fmt.Errorf("status %d", resp.StatusCode))
	}
	w.led.ack("hec", marker, func() { w.led.batches = append(w.led.batches, marker) })
	return true
}

// accountChange adds a user, or deletes one added earlier.
func (w *workload) accountChange(ctx context.Context, rng *rand.Rand, i int) bool {
	if i > 1 && rng.IntN(3) == 0 {
		name := w.name("u", rng.IntN(i))
		w.led.mu.Lock()
		exists := w.led.users[name]
		w.led.mu.Unlock()
		if exists {
			if err := w.c.DeleteUser(ctx, name); err != nil {
				// An unacknowledged delete may have committed before the
				// kill: the user's existence is no longer known.
				w.led.mu.Lock()
				delete(w.led.users, name)
				w.led.mu.Unlock()
				return w.failed("user delete", err)
			}
			w.led.ack("user.delete", name, func() { w.led.users[name] = false })
			return true
		}
	}
	name := w.name("u", i)
	pw := "crash-user-password"
	if _, err := w.c.AddUser(ctx, wire.UserRequest{Name: name, Password: &pw, Roles: &[]string{"user"}}); err != nil {
		return w.failed("user add", err)
	}
	w.led.ack("user", name, func() { w.led.users[name] = true })
	return true
}

// fit trains the tiny notebook into a new model through a search.
func (w *workload) fit(ctx context.Context, rng *rand.Rand, i int) bool {
	name := w.name("F", i)
	res, err := w.c.SearchAll(ctx, "| inputlookup crashfit.csv | fit MLTKContainer algo=crashfit y from x into app:"+name, "")
	if err != nil {
		return w.failed("fit", err)
	}
	for _, m := range res.Messages {
		if strings.Contains(m, "registered app:"+name+" version 1") {
			w.led.ack("fit", name, func() {
				if w.led.models["app:"+name] < 1 {
					w.led.models["app:"+name] = 1
				}
			})
			return true
		}
	}
	return w.failed("fit", fmt.Errorf("no registration among the messages %q", res.Messages))
}
