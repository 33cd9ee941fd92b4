package agent

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"unicode/utf8"

	"github.com/dockyard/dockyard/internal/agent/runner"
	"github.com/dockyard/dockyard/internal/errdefs"
)

// Streaming endpoints (POST /v1/fit/stream, POST /v1/apply/stream).
//
// Request body: one JSON header line {"meta": {...the seed's param...},
// "format": "csv"}, then the rows as CSV (a header row, then one row per
// line), sent as they come (chunked). The agent copies the rows to a file as
// they arrive, so its memory stays bounded however many rows there are.
//
// Answer: newline-delimited JSON frames (application/x-ndjson), see Frame.
// Frames are sent while the request is still being read.

// Frame is one line of a streaming answer.
type Frame struct {
	// Type is "progress" (Rows received so far, or Step of the notebook:
	// init, fit, save, load, apply), "log" (a line the notebook printed),
	// "results" (CSV: the chunks, concatenated in order, are the result
	// CSV, header first) or "done" (the last frame).
	Type   string `json:"type"`
	Rows   int64  `json:"rows,omitempty"`
	Step   string `json:"step,omitempty"`
	Stream string `json:"stream,omitempty"`
	Line   string `json:"line,omitempty"`
	CSV    string `json:"csv,omitempty"`
	// done only:
	Status     string          `json:"status,omitempty"` // success, error or staged
	Message    string          `json:"message,omitempty"`
	Messages   []string        `json:"messages,omitempty"`
	ResultRows int             `json:"result_rows,omitempty"`
	FitInfo    json.RawMessage `json:"fit_info,omitempty"`
	Files      []FileInfo      `json:"files,omitempty"` // fit: the model files save wrote
	// Timings are the runner's seconds spent reading rows and writing results.
	Timings map[string]float64 `json:"timings,omitempty"`
}

const (
	progressEvery  = 100_000   // rows between progress frames while receiving
	resultChunk    = 256 << 10 // bytes of CSV per results frame
	maxHeaderBytes = 1 << 20
)

func (a *Agent) handleFitStream(w http.ResponseWriter, r *http.Request) { a.handleStream(w, r, "fit") }

func (a *Agent) handleApplyStream(w http.ResponseWriter, r *http.Request) {
	a.handleStream(w, r, "apply")
}

type frameWriter struct {
	w  http.ResponseWriter
	rc *http.ResponseController
}

func (f *frameWriter) send(fr Frame, flush bool) error {
	b, err := json.Marshal(fr)
	if err != nil {
		return err
	}
	if _, err := f.w.Write(append(b, '\n')); err != nil {
		return err
	}
	if flush {
		return f.rc.Flush()
	}
	return nil
}

func (a *Agent) handleStream(w http.ResponseWriter, r *http.Request, op string) {
	rc := http.NewResponseController(w)
	_ = rc.EnableFullDuplex() // HTTP/1.1: answer while still reading; HTTP/2 always can
	br := bufio.NewReaderSize(http.MaxBytesReader(w, r.Body, a.cfg.MaxBodyBytes), 256<<10)
	line, err := br.ReadSlice('\n')
	if err != nil && !(errors.Is(err, io.EOF) && len(line) > 0) {
		if errors.Is(err, bufio.ErrBufferFull) || len(line) > maxHeaderBytes {
			err = errdefs.Invalid("stream header line is too long: send one JSON line {\"meta\": {...}} before the CSV")
		} else if !tooLarge(err) {
			err = errdefs.Invalidf("stream has no header line: send one JSON line {\"meta\": {...}} before the CSV (%w)", err)
		}
		writeError(w, err)
		return
	}
	var hdr struct {
		Meta   json.RawMessage `json:"meta"`
		Format string          `json:"format"`
		// NotebookSHA256 runs the pinned notebook version with that
		// content instead of the notebooks directory's file.
		NotebookSHA256 string `json:"notebook_sha256"`
	}
	if err := json.Unmarshal(line, &hdr); err != nil {
		writeError(w, errdefs.Invalidf("stream header line is not JSON {\"meta\": {...}, \"format\": \"csv\"}: %w", err))
		return
	}
	if hdr.Format != "" && hdr.Format != "csv" {
		writeError(w, errdefs.Invalidf("stream format %q is not supported: send \"csv\"", hdr.Format))
		return
	}
	req, err := parseMeta(hdr.Meta, true)
	if err == nil && hdr.NotebookSHA256 != "" {
		req.NotebookSHA256 = hdr.NotebookSHA256
		_, err = a.pinnedFile(req.NotebookSHA256)
	}
	if err != nil {
		writeError(w, err)
		return
	}
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.WriteHeader(http.StatusOK)
	fw := &frameWriter{w: w, rc: rc}
	done, err := a.stream(fw, r, op, req, br)
	if err != nil {
		done = Frame{Status: "error", Message: err.Error()}
		if tooLarge(err) {
			done.Message = "request body is larger than the agent's limit (--max-body)"
		}
	}
	done.Type = "done"
	if err := fw.send(done, true); err != nil {
		a.log.Warn("stream answer not delivered", "err", err)
	}
}

func (a *Agent) stream(fw *frameWriter, r *http.Request, op string, req request, body io.Reader) (Frame, error) {
	f, err := os.CreateTemp(a.tmpDir, "data-*.csv")
	if err != nil {
		return Frame{}, fmt.Errorf("spooling rows: %w", err)
	}
	data := f.Name()
	defer os.Remove(data)
	cnt := &rowCounter{emit: func(n int64) error { return fw.send(Frame{Type: "progress", Rows: n}, true) }}
	buf := make([]byte, 256<<10)
	_, err = io.CopyBuffer(io.MultiWriter(f, cnt), body, buf)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return Frame{}, fmt.Errorf("receiving rows: %w", err)
	}
	rows := cnt.rows()
	if err := fw.send(Frame{Type: "progress", Rows: rows}, true); err != nil {
		return Frame{}, err
	}
	if op == "fit" && req.Mode == "stage" {
		msg, err := a.stage(req, mustOpen(data))
		if err != nil {
			return Frame{}, err
		}
		return Frame{Status: "staged", Message: msg, Rows: rows}, nil
	}
	results := data + ".results.csv"
	defer os.Remove(results)
	res, files, err := a.runJob(r.Context(), op, req, data, rows, results, func(ev runner.Event) {
		a.logEvent(ev)
		_ = fw.send(Frame{Type: ev.Type, Step: ev.Step, Stream: ev.Stream, Line: ev.Line}, true)
	})
	if err != nil {
		return Frame{}, err
	}
	done := Frame{Status: res.Status, Message: message(op, req, res), Messages: res.Messages, Rows: int64(res.Rows),
		ResultRows: res.ResultRows, FitInfo: res.FitInfo, Files: files, Timings: res.Timings}
	if res.Status == "success" {
		if err := sendResults(fw, results); err != nil {
			return Frame{}, err
		}
	}
	return done, nil
}

// mustOpen opens path for stage's copy; a failure surfaces as a read error.
func mustOpen(path string) io.Reader {
	f, err := os.Open(path)
	if err != nil {
		return errReader{err}
	}
	return &closingReader{f}
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

type closingReader struct{ f *os.File }

func (c *closingReader) Read(p []byte) (int, error) {
	n, err := c.f.Read(p)
	if err != nil {
		c.f.Close()
	}
	return n, err
}

// sendResults streams the results file as frames of whole lines, reusing
// its buffers so that the agent's memory does not grow with the results.
func sendResults(fw *frameWriter, path string) error {
	f, err := os.Open(path)
	if err != nil {
		if os.IsNotExist(err) {
			return nil
		}
		return fmt.Errorf("reading results: %w", err)
	}
	defer f.Close()
	buf := make([]byte, resultChunk)
	frame := make([]byte, 0, resultChunk+resultChunk/8+64)
	have := 0 // bytes of buf holding a partial line carried over
	for {
		n, err := io.ReadFull(f, buf[have:])
		chunk := buf[:have+n]
		end := len(chunk)
		if err == nil { // more may follow: cut after the last line break
			if i := bytes.LastIndexByte(chunk, '\n'); i >= 0 {
				end = i + 1
			}
		}
		if end > 0 {
			frame = append(frame[:0], `{"type":"results","csv":`...)
			frame = appendJSONString(frame, chunk[:end])
			frame = append(frame, "}\n"...)
			if _, werr := fw.w.Write(frame); werr != nil {
				return werr
			}
		}
		have = copy(buf, chunk[end:])
		if err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return fw.rc.Flush()
			}
			return fmt.Errorf("reading results: %w", err)
		}
	}
}

// appendJSONString appends s as a JSON string. Invalid UTF-8 goes through
// encoding/json, which replaces it.
func appendJSONString(dst, s []byte) []byte {
	if !utf8.Valid(s) {
		b, _ := json.Marshal(string(s))
		return append(dst, b...)
	}
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	start := 0
	for i, c := range s {
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		dst = append(dst, s[start:i]...)
		switch c {
		case '"', '\\':
			dst = append(dst, '\\', c)
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		case '\t':
			dst = append(dst, '\\', 't')
		default:
			dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		}
		start = i + 1
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// rowCounter counts CSV lines (the first is the header) and calls emit each
// time another progressEvery rows have arrived.
type rowCounter struct {
	lines int64
	last  byte
	next  int64
	emit  func(rows int64) error
}

func (c *rowCounter) Write(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	c.lines += int64(bytes.Count(p, []byte{'\n'}))
	c.last = p[len(p)-1]
	if c.next == 0 {
		c.next = progressEvery
	}
	if r := c.lines - 1; r >= c.next {
		c.next = (r/progressEvery + 1) * progressEvery
		if err := c.emit(r); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

// rows is the number of data rows seen (lines after the header, counting an
// unterminated last line).
func (c *rowCounter) rows() int64 {
	n := c.lines
	if c.last != 0 && c.last != '\n' {
		n++
	}
	if n > 0 {
		n-- // the header
	}
	return n
}
