package api

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/dockyard/dockyard/internal/access"
	"github.com/dockyard/dockyard/internal/audit"
	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/search"
	"github.com/dockyard/dockyard/internal/spl"
	"github.com/dockyard/dockyard/internal/wire"
)

// SearchAPI runs searches and streams their results as NDJSON frames
// (wire.SearchFrame): rows in batches, progress now and then, and a final
// done or error frame.
type SearchAPI struct {
	*API
	// NewEnv returns a fresh environment for one search in app; the caller
	// is in ctx. It is called once per request.
	NewEnv func(ctx context.Context, app string) *search.Env
}

// Routes lists the search route.
func (s *SearchAPI) Routes() []Route {
	return []Route{
		{Method: "POST", Pattern: "/v1/search", Cap: access.CapSearch, Action: "search", Handle: s.search},
	}
}

const (
	// maxAuditedSearch bounds the search text kept in an audit event.
	maxAuditedSearch = 4 << 10
	// flushRows and flushEvery bound how long rows wait in the buffer.
	flushRows  = 512
	flushEvery = 200 * time.Millisecond
	// progressEvery is how often a running search reports progress.
	progressEvery = time.Second
)

// search runs the SPL of the body. Syntax errors are a 400 before anything
// streams; errors that happen before the first frame is flushed get their
// ordinary status; later ones end the stream with an error frame.
// Closing the request cancels the search.
func (s *SearchAPI) search(w http.ResponseWriter, r *http.Request) error {
	var req wire.SearchRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	// Read the body to its end: only then does the server notice a client
	// that goes away and cancel the request's context.
	io.CopyN(io.Discard, r.Body, maxBody)
	if strings.TrimSpace(req.Search) == "" {
		return errdefs.Invalid(`the search is empty: pass one such as "| makeresults count=3"`)
	}
	ctx := r.Context()
	p := access.FromContext(ctx)
	if req.App != "" && req.App != p.App {
		if err := access.ValidateApp(req.App); err != nil {
			return err
		}
		if !p.CanReadApp(req.App) {
			return access.AppNotFound(req.App)
		}
		cp := *p
		cp.App = req.App
		p = &cp
		ctx = access.WithPrincipal(ctx, p)
		r = r.WithContext(ctx)
	}
	start := time.Now()
	cmds, err := search.Compile(req.Search)
	if err != nil {
		s.auditSearch(r, req.Search, 0, start, err, false)
		return err
	}
	// No search runs without its audit event: the start is recorded first,
	// and a failure to record it fails the request. It names the search by
	// digest (the "search" event at the end carries the text), so that a
	// search of _internal does not find its own start.
	sum := sha256.Sum256([]byte(req.Search))
	if err := s.recordErr(r, audit.Event{Action: "search.start", Details: map[string]any{
		"search_sha256": hex.EncodeToString(sum[:]), "search_bytes": len(req.Search)}}); err != nil {
		return &auditFailed{err: err}
	}
	env := s.NewEnv(ctx, p.App)
	st := newResultStream(w, start)
	go st.tick()
	info, err := search.RunCommands(ctx, cmds, env, st.row)
	st.stop()
	// The client is gone when the request's context ended or a write failed.
	gone := r.Context().Err() != nil || st.err != nil
	s.auditSearch(r, req.Search, info.Rows, start, err, gone && !errdefs.IsLimit(err))
	if err != nil {
		if gone {
			return nil // nobody to tell
		}
		if !st.started {
			return err // nothing sent yet: an ordinary error answer (a 500 is logged by wrap)
		}
		st.final(wire.SearchFrame{Error: s.errorFrame(r, err)})
		return nil
	}
	msgs := info.Messages
	if msgs == nil {
		msgs = []string{}
	}
	st.final(wire.SearchFrame{Done: &wire.SearchDone{Messages: msgs, Rows: info.Rows,
		Fields: nonNil(info.Fields), ElapsedMS: time.Since(start).Milliseconds()}})
	return nil
}

// errorFrame describes err for the client: internal details stay in the
// server log.
func (s *SearchAPI) errorFrame(r *http.Request, err error) *wire.SearchError {
	_, code := statusOf(err)
	f := &wire.SearchError{Message: err.Error(), Code: code}
	if code == "internal" {
		s.logInternal(r, err)
		f.Message = "internal error; the server log has the details under request id " + RequestID(r.Context())
	}
	var pe *spl.ParseError
	if errors.As(err, &pe) {
		f.Line, f.Column = pe.Pos.Line, pe.Pos.Col
	}
	return f
}

// auditSearch records one search: its text (truncated), the rows it
// returned and how it ended (success, failure, or denied when it was
// refused).
func (s *SearchAPI) auditSearch(r *http.Request, src string, rows int, start time.Time, err error, cancelled bool) {
	e := audit.Event{Action: "search", Details: map[string]any{
		"search": truncate(src, maxAuditedSearch), "rows": rows, "elapsed_ms": time.Since(start).Milliseconds()}}
	switch {
	case err != nil && cancelled:
		e.Result, e.Message = audit.ResultFailure, "search cancelled: the client closed the request"
	case errdefs.IsPermissionDenied(err) || errdefs.IsUnauthenticated(err):
		// A refusal, like those of other routes (a fit that may not start
		// a container, write a model, ...).
		e.Result, e.Message = audit.ResultDenied, err.Error()
	case err != nil:
		e.Result, e.Message = audit.ResultFailure, err.Error()
	}
	s.record(r, e)
}

// truncate cuts s to at most n bytes on a rune boundary, marking the cut.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + fmt.Sprintf("... (%d bytes in all)", len(s))
}

// resultStream writes the frames of one search. Rows are buffered and
// flushed every flushRows rows or flushEvery, whichever comes first; the
// response header is sent with the first flush, so that a search that fails
// before sending anything answers with an ordinary error status.
type resultStream struct {
	mu      sync.Mutex
	w       http.ResponseWriter
	bw      *bufio.Writer
	f       http.Flusher
	start   time.Time
	rows    int
	pending int
	started bool
	err     error // the first write error: the client is gone
	buf     []byte
	quit    chan struct{}
	done    chan struct{}
}

func newResultStream(w http.ResponseWriter, start time.Time) *resultStream {
	st := &resultStream{w: w, bw: bufio.NewWriterSize(w, 32<<10), start: start,
		quit: make(chan struct{}), done: make(chan struct{})}
	st.f, _ = w.(http.Flusher)
	return st
}

// row is the search's sink.
func (st *resultStream) row(r *search.Row) error {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.err != nil {
		return st.err
	}
	b := append(st.buf[:0], `{"row":{`...)
	for i, f := range r.Fields {
		if i > 0 {
			b = append(b, ',')
		}
		b = wire.AppendJSONString(b, f.Name)
		b = append(b, ':')
		b = wire.AppendJSONString(b, outputText(f.Name, f.Value))
	}
	b = append(b, "}}\n"...)
	st.buf = b
	st.rows++
	st.pending++
	if st.bw.Available() < len(b) {
		st.begin() // the buffer is about to reach the network
	}
	if _, err := st.bw.Write(b); err != nil {
		st.err = err
		return err
	}
	if st.pending >= flushRows {
		st.flushLocked()
	}
	return st.err
}

// begin sends the response header once.
func (st *resultStream) begin() {
	if st.started {
		return
	}
	st.started = true
	h := st.w.Header()
	h.Set("Content-Type", "application/x-ndjson")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	st.w.WriteHeader(http.StatusOK)
}

func (st *resultStream) flushLocked() {
	st.begin()
	st.pending = 0
	if err := st.bw.Flush(); err != nil && st.err == nil {
		st.err = err
		return
	}
	if st.f != nil {
		st.f.Flush()
	}
}

func (st *resultStream) frameLocked(f wire.SearchFrame) {
	st.begin() // every frame is flushed right after it
	b, err := json.Marshal(f)
	if err != nil {
		return
	}
	if _, err := st.bw.Write(append(b, '\n')); err != nil && st.err == nil {
		st.err = err
	}
}

// tick flushes waiting rows and sends progress until stop.
func (st *resultStream) tick() {
	defer close(st.done)
	t := time.NewTicker(flushEvery)
	defer t.Stop()
	next := st.start.Add(progressEvery)
	for {
		select {
		case <-st.quit:
			return
		case now := <-t.C:
			st.mu.Lock()
			if now.After(next) {
				next = now.Add(progressEvery)
				st.frameLocked(wire.SearchFrame{Progress: &wire.SearchProgress{Rows: st.rows, ElapsedMS: now.Sub(st.start).Milliseconds()}})
				st.pending++
			}
			if st.pending > 0 {
				st.flushLocked()
			}
			st.mu.Unlock()
		}
	}
}

func (st *resultStream) stop() {
	close(st.quit)
	<-st.done
}

// final writes the last frame and flushes everything.
func (st *resultStream) final(f wire.SearchFrame) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.begin()
	st.frameLocked(f)
	st.flushLocked()
}

// outputText is a field's text in results. _time, epoch seconds inside the
// pipeline (so that comparisons and arithmetic work), is shown as an ISO
// 8601 time in UTC with milliseconds, as the seed's platform shows it.
func outputText(name string, v search.Value) string {
	if name == "_time" && v.Kind() == search.Num {
		n, _ := v.Number()
		ms := int64(math.Round(n * 1000))
		return time.UnixMilli(ms).UTC().Format("2006-01-02T15:04:05.000Z")
	}
	return v.String()
}
