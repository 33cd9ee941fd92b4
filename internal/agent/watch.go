package agent

import (
	"context"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/dockyard/dockyard/internal/errdefs"
)

// The change feed tells the server when the container's work changed, so
// that the server's notebook sync pulls at once instead of at its next
// pass. The agent watches notebooks/ and app/model/data/ with fsnotify and,
// for events the kernel drops (a full queue, a directory made between two
// reads), rescans sizes and modification times every ScanInterval. A
// change counts once its files have been quiet for Quiet (a file being
// written produces events until its writer is done), so what the server
// then reads is a complete file. GET /v1/changes?after=N&wait=SECONDS
// answers as soon as the feed's sequence number passes N, or after wait
// (at most 60 s) with the number unchanged. The number starts at 1 in each
// agent process, so a server that saw 0 (or a number from an earlier
// process, which it keys by the container's start) syncs at once: a
// restarted agent's files are synced again.
//
// The agent needs no credential for the server: the server keeps pulling
// over the channel it already authenticates (mutual TLS and the agent's
// token) and only the moment changes. Pinned notebooks (.dockyard/pinned)
// and notebooks/data are not watched.
const (
	DefaultQuiet        = 250 * time.Millisecond
	DefaultScanInterval = 2 * time.Second
	maxChangesWait      = 60 * time.Second
)

type changeFeed struct {
	quiet, scan time.Duration
	dirs        []string // watched roots: the notebooks dir (flat) and the model dir (recursive)
	nbDir       string

	mu      sync.Mutex
	seq     uint64
	pending bool
	timer   *time.Timer
	bumped  chan struct{} // closed and replaced at each new sequence number
	stamps  map[string]fileStamp
	evented bool          // an fsnotify event came since the last rescan
	stopped chan struct{} // closed when run ends (the agent is closing): long polls answer
}

func newChangeFeed(nbDir, modelDir string, quiet, scan time.Duration) *changeFeed {
	if quiet <= 0 {
		quiet = DefaultQuiet
	}
	if scan <= 0 {
		scan = DefaultScanInterval
	}
	f := &changeFeed{quiet: quiet, scan: scan, dirs: []string{nbDir, modelDir}, nbDir: nbDir, seq: 1, bumped: make(chan struct{}), stopped: make(chan struct{})}
	f.stamps = f.snapshot()
	return f
}

// touch notes a change; the sequence number moves once it is quiet.
func (f *changeFeed) touch() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.pending = true
	if f.timer == nil {
		f.timer = time.AfterFunc(f.quiet, f.settle)
		return
	}
	f.timer.Reset(f.quiet)
}

func (f *changeFeed) settle() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.pending = false
	f.seq++
	close(f.bumped)
	f.bumped = make(chan struct{})
}

// wait returns the sequence number once it passes after, or when ctx ends.
func (f *changeFeed) wait(ctx context.Context, after uint64) (seq uint64, pending bool) {
	for {
		f.mu.Lock()
		seq, pending, ch := f.seq, f.pending, f.bumped
		f.mu.Unlock()
		if seq > after {
			return seq, pending
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return seq, pending
		case <-f.stopped:
			return seq, pending
		}
	}
}

// snapshot records size and modification time of every watched file.
func (f *changeFeed) snapshot() map[string]fileStamp {
	out := map[string]fileStamp{}
	for _, root := range f.dirs {
		_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return nil
			}
			if d.IsDir() {
				if p != root && f.skipDir(p) {
					return filepath.SkipDir
				}
				return nil
			}
			if fi, err := d.Info(); err == nil && fi.Mode().IsRegular() {
				out[p] = fileStamp{fi.Size(), fi.ModTime()}
			}
			return nil
		})
	}
	return out
}

// skipDir: only the top level of notebooks/ holds notebooks.
func (f *changeFeed) skipDir(p string) bool { return filepath.Dir(p) == f.nbDir }

// rescan touches when sizes or modification times changed since the last
// rescan and no fsnotify event came in between (those changes are already
// counted; touching again would only stretch their quiet period).
func (f *changeFeed) rescan() {
	now := f.snapshot()
	f.mu.Lock()
	evented := f.evented
	f.evented = false
	f.mu.Unlock()
	changed := len(now) != len(f.stamps)
	for p, st := range now {
		if old, ok := f.stamps[p]; !ok || old != st {
			changed = true
			break
		}
	}
	f.stamps = now
	if changed && !evented {
		f.touch()
	}
}

// run watches until ctx ends; without fsnotify it relies on the rescans.
func (f *changeFeed) run(ctx context.Context, log interface{ Warn(string, ...any) }) {
	defer close(f.stopped)
	w, err := fsnotify.NewWatcher()
	if err != nil {
		log.Warn("file watcher unavailable; changes are found by rescans only", "err", err)
	} else {
		defer w.Close()
		for _, root := range f.dirs {
			f.addTree(w, root, log)
		}
	}
	t := time.NewTicker(f.scan)
	defer t.Stop()
	var events <-chan fsnotify.Event
	var errs <-chan error
	if w != nil {
		events, errs = w.Events, w.Errors
	}
	for {
		select {
		case <-ctx.Done():
			return
		case ev := <-events:
			if ev.Has(fsnotify.Create) {
				if st, err := os.Lstat(ev.Name); err == nil && st.IsDir() && !f.skipDir(ev.Name) {
					f.addTree(w, ev.Name, log)
				}
			}
			if !strings.HasPrefix(filepath.Base(ev.Name), ".upload-") {
				f.mu.Lock()
				f.evented = true
				f.mu.Unlock()
				f.touch()
			}
		case err := <-errs:
			log.Warn("file watcher", "err", err)
			f.touch()
		case <-t.C:
			f.rescan()
		}
	}
}

func (f *changeFeed) addTree(w *fsnotify.Watcher, root string, log interface{ Warn(string, ...any) }) {
	_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return nil
		}
		if p != root && f.skipDir(p) {
			return filepath.SkipDir
		}
		if err := w.Add(p); err != nil {
			log.Warn("watching a directory", "dir", p, "err", err)
		}
		return nil
	})
}

// handleChanges is GET /v1/changes?after=N&wait=SECONDS.
func (a *Agent) handleChanges(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var after uint64
	if s := q.Get("after"); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			writeError(w, errdefs.Invalid("after="+s+": give the seq of the previous answer (a whole number)"))
			return
		}
		after = n
	}
	wait := 25 * time.Second
	if s := q.Get("wait"); s != "" {
		n, err := strconv.ParseFloat(s, 64)
		if err != nil || n < 0 {
			writeError(w, errdefs.Invalid("wait="+s+": give seconds (0 to 60)"))
			return
		}
		wait = min(time.Duration(n*float64(time.Second)), maxChangesWait)
	}
	ctx, cancel := context.WithTimeout(r.Context(), wait)
	defer cancel()
	seq, pending := a.changes.wait(ctx, after)
	writeJSON(w, http.StatusOK, map[string]any{"seq": seq, "pending": pending})
}
