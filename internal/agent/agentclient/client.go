// Package agentclient is the Go client of the Dockyard agent's API (the
// container side of fit, apply and summary), used by the server and tests.
// Every request carries the trace context of its ctx (W3C traceparent), so
// that the agent's spans join the caller's trace.
package agentclient

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/dockyard/dockyard/internal/agent"
	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/errdefs/errhttp"
	"github.com/dockyard/dockyard/internal/telemetry"
)

// Client talks to one agent.
type Client struct {
	base  string
	token string
	http  *http.Client
}

// New returns a client for the agent at endpoint (https://host:port) with
// its bearer token. hc must verify the agent's certificate (and present a
// client certificate where the agent requires one).
func New(endpoint, token string, hc *http.Client) *Client {
	return &Client{base: strings.TrimRight(endpoint, "/"), token: token, http: hc}
}

// Answer is the answer of /fit, /apply and /summary.
type Answer struct {
	Status     string           `json:"status"` // success, error or staged
	Message    string           `json:"message"`
	Code       string           `json:"code,omitempty"`    // of an error: errhttp's code string
	Results    string           `json:"results,omitempty"` // CSV
	Summary    json.RawMessage  `json:"summary,omitempty"`
	Messages   []string         `json:"messages,omitempty"`
	Rows       int              `json:"rows,omitempty"`
	ResultRows int              `json:"result_rows,omitempty"`
	FitInfo    json.RawMessage  `json:"fit_info,omitempty"`
	Files      []agent.FileInfo `json:"files,omitempty"`
}

func (c *Client) do(ctx context.Context, method, path string, body io.Reader, hdr map[string]string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return nil, fmt.Errorf("agent request: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	// The agent continues the caller's trace (W3C traceparent).
	telemetry.Inject(ctx, req.Header)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, errdefs.Unavailablef("agent %s is unreachable: %w", c.base, err)
	}
	if resp.StatusCode >= 300 {
		defer resp.Body.Close()
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		var a Answer
		msg := strings.TrimSpace(string(b))
		if json.Unmarshal(b, &a) == nil && a.Message != "" {
			msg = a.Message
		}
		return nil, errhttp.Agent.Decode(resp.StatusCode, a.Code, fmt.Sprintf("agent %s %s: %s", method, path, msg))
	}
	return resp, nil
}

func (c *Client) postJSON(ctx context.Context, path string, v any) (Answer, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return Answer{}, fmt.Errorf("agent request: %w", err)
	}
	resp, err := c.do(ctx, "POST", path, bytes.NewReader(b), map[string]string{"Content-Type": "application/json"})
	if err != nil {
		return Answer{}, err
	}
	defer resp.Body.Close()
	var a Answer
	if err := json.NewDecoder(resp.Body).Decode(&a); err != nil {
		return Answer{}, errdefs.Unavailablef("agent %s: bad answer: %w", path, err)
	}
	return a, nil
}

// Fit is the seed-compatible POST /fit with the rows as one CSV string.
func (c *Client) Fit(ctx context.Context, meta json.RawMessage, csv string) (Answer, error) {
	return c.postJSON(ctx, "/fit", map[string]any{"data": csv, "meta": meta})
}

// Apply is the seed-compatible POST /apply.
func (c *Client) Apply(ctx context.Context, meta json.RawMessage, csv string) (Answer, error) {
	return c.postJSON(ctx, "/apply", map[string]any{"data": csv, "meta": meta})
}

// Summary is GET /summary for a notebook and model name.
func (c *Client) Summary(ctx context.Context, algo, modelName string) (Answer, error) {
	return c.SummaryPinned(ctx, algo, modelName, "")
}

// SummaryPinned is Summary run by the pinned notebook version whose
// content has SHA-256 notebookSHA256 (hex; "" runs notebooks/<algo>).
func (c *Client) SummaryPinned(ctx context.Context, algo, modelName, notebookSHA256 string) (Answer, error) {
	q := url.Values{"algo": {algo}, "model_name": {modelName}}
	if notebookSHA256 != "" {
		q.Set("notebook_sha256", notebookSHA256)
	}
	resp, err := c.do(ctx, "GET", "/summary?"+q.Encode(), nil, nil)
	if err != nil {
		return Answer{}, err
	}
	defer resp.Body.Close()
	var a Answer
	if err := json.NewDecoder(resp.Body).Decode(&a); err != nil {
		return Answer{}, errdefs.Unavailablef("agent /summary: bad answer: %w", err)
	}
	return a, nil
}

// FitStream streams a fit: rows is CSV (header row first), read as it is
// sent. onFrame gets every frame before the last (progress, log, results);
// the "done" frame is returned.
func (c *Client) FitStream(ctx context.Context, meta json.RawMessage, rows io.Reader, onFrame func(agent.Frame)) (agent.Frame, error) {
	return c.stream(ctx, "/v1/fit/stream", "", meta, rows, onFrame)
}

// ApplyStream streams an apply like FitStream.
func (c *Client) ApplyStream(ctx context.Context, meta json.RawMessage, rows io.Reader, onFrame func(agent.Frame)) (agent.Frame, error) {
	return c.stream(ctx, "/v1/apply/stream", "", meta, rows, onFrame)
}

// FitStreamPinned is FitStream run by the pinned notebook version whose
// content has SHA-256 notebookSHA256 (hex), placed with PutPinnedNotebook.
func (c *Client) FitStreamPinned(ctx context.Context, notebookSHA256 string, meta json.RawMessage, rows io.Reader, onFrame func(agent.Frame)) (agent.Frame, error) {
	return c.stream(ctx, "/v1/fit/stream", notebookSHA256, meta, rows, onFrame)
}

// ApplyStreamPinned is ApplyStream run by a pinned notebook version.
func (c *Client) ApplyStreamPinned(ctx context.Context, notebookSHA256 string, meta json.RawMessage, rows io.Reader, onFrame func(agent.Frame)) (agent.Frame, error) {
	return c.stream(ctx, "/v1/apply/stream", notebookSHA256, meta, rows, onFrame)
}

func (c *Client) stream(ctx context.Context, path, notebookSHA256 string, meta json.RawMessage, rows io.Reader, onFrame func(agent.Frame)) (agent.Frame, error) {
	h := map[string]any{"meta": meta, "format": "csv"}
	if notebookSHA256 != "" {
		h["notebook_sha256"] = notebookSHA256
	}
	hdr, err := json.Marshal(h)
	if err != nil {
		return agent.Frame{}, fmt.Errorf("agent stream header: %w", err)
	}
	body := io.MultiReader(bytes.NewReader(append(hdr, '\n')), rows)
	resp, err := c.do(ctx, "POST", path, io.NopCloser(body), map[string]string{"Content-Type": "application/x-ndjson"})
	if err != nil {
		return agent.Frame{}, err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 64<<20)
	for sc.Scan() {
		var f agent.Frame
		if err := json.Unmarshal(sc.Bytes(), &f); err != nil {
			return agent.Frame{}, errdefs.Unavailablef("agent %s: bad frame: %w", path, err)
		}
		if f.Type == "done" {
			return f, nil
		}
		if onFrame != nil {
			onFrame(f)
		}
	}
	if err := sc.Err(); err != nil {
		return agent.Frame{}, errdefs.Unavailablef("agent %s: stream broken: %w", path, err)
	}
	return agent.Frame{}, errdefs.Unavailablef("agent %s: stream ended without a done frame", path)
}

// PutNotebook places a notebook (NAME.ipynb or NAME.py) in the container.
func (c *Client) PutNotebook(ctx context.Context, name string, content []byte) (agent.FileInfo, error) {
	return c.put(ctx, "/v1/notebooks/"+url.PathEscape(name), bytes.NewReader(content), "")
}

// PutPinnedNotebook places an exact notebook version (format ipynb or py)
// apart from the notebooks directory, named by its content's SHA-256
// (hex), which the agent verifies; jobs run it with the *Pinned calls.
func (c *Client) PutPinnedNotebook(ctx context.Context, sha256, format string, content []byte) (agent.FileInfo, error) {
	return c.put(ctx, "/v1/pinned/"+url.PathEscape(sha256+"."+format), bytes.NewReader(content), sha256)
}

// GetNotebook reads a notebook back.
func (c *Client) GetNotebook(ctx context.Context, name string) ([]byte, error) {
	resp, err := c.do(ctx, "GET", "/v1/notebooks/"+url.PathEscape(name), nil, nil)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	return io.ReadAll(resp.Body)
}

// ListNotebooks is GET /v1/notebooks: the notebooks (NAME.ipynb and
// NAME.py) in the container, with size and SHA-256 (hex).
func (c *Client) ListNotebooks(ctx context.Context) ([]agent.FileInfo, error) {
	resp, err := c.do(ctx, "GET", "/v1/notebooks", nil, nil)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var out struct {
		Notebooks []agent.FileInfo `json:"notebooks"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return nil, errdefs.Unavailablef("agent notebooks: bad answer: %w", err)
	}
	return out.Notebooks, nil
}

// ModelFiles lists the model files with size and SHA-256.
func (c *Client) ModelFiles(ctx context.Context) ([]agent.FileInfo, error) {
	resp, err := c.do(ctx, "GET", "/v1/model/files", nil, nil)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var out struct {
		Files []agent.FileInfo `json:"files"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return nil, errdefs.Unavailablef("agent model files: bad answer: %w", err)
	}
	return out.Files, nil
}

// OpenModelFile downloads one model file; the caller closes it.
func (c *Client) OpenModelFile(ctx context.Context, path string) (io.ReadCloser, error) {
	resp, err := c.do(ctx, "GET", "/v1/model/files/"+escapePath(path), nil, nil)
	if err != nil {
		return nil, err
	}
	return resp.Body, nil
}

// PutModelFile writes one model file (restoring a version before apply);
// with sha256 (hex) non-empty the agent verifies the content first.
func (c *Client) PutModelFile(ctx context.Context, path string, r io.Reader, sha256 string) (agent.FileInfo, error) {
	return c.put(ctx, "/v1/model/files/"+escapePath(path), r, sha256)
}

// DeleteModelFile removes one model file.
func (c *Client) DeleteModelFile(ctx context.Context, path string) error {
	resp, err := c.do(ctx, "DELETE", "/v1/model/files/"+escapePath(path), nil, nil)
	if err != nil {
		return err
	}
	resp.Body.Close()
	return nil
}

func (c *Client) put(ctx context.Context, path string, r io.Reader, sha string) (agent.FileInfo, error) {
	hdr := map[string]string{"Content-Type": "application/octet-stream"}
	if sha != "" {
		hdr["X-Dockyard-SHA256"] = sha
	}
	resp, err := c.do(ctx, "PUT", path, r, hdr)
	if err != nil {
		return agent.FileInfo{}, err
	}
	defer resp.Body.Close()
	var fi agent.FileInfo
	if err := json.NewDecoder(resp.Body).Decode(&fi); err != nil {
		return agent.FileInfo{}, errdefs.Unavailablef("agent %s: bad answer: %w", path, err)
	}
	return fi, nil
}

func escapePath(p string) string {
	parts := strings.Split(p, "/")
	for i, s := range parts {
		parts[i] = url.PathEscape(s)
	}
	return strings.Join(parts, "/")
}

// Healthy reports whether GET /healthz answers 200.
func (c *Client) Healthy(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, "GET", c.base+"/healthz", nil)
	if err != nil {
		return err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return errdefs.Unavailablef("agent %s is unreachable: %w", c.base, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return errdefs.Unavailablef("agent %s: /healthz answered %d", c.base, resp.StatusCode)
	}
	return nil
}

// Info is GET /v1/info: the agent's and its runner's process ids, the
// runner's interpreter, and the agent's Go memory.
type Info struct {
	PID           int    `json:"pid"`
	RunnerPID     int    `json:"runner_pid"`
	Python        string `json:"python"`
	PythonVersion string `json:"python_version"`
	Pandas        bool   `json:"pandas"`
	RunnerError   string `json:"runner_error,omitempty"`
	GoHeapAlloc   uint64 `json:"go_heap_alloc"`
	GoSys         uint64 `json:"go_sys"`
}

// Info reads GET /v1/info.
func (c *Client) Info(ctx context.Context) (Info, error) {
	resp, err := c.do(ctx, "GET", "/v1/info", nil, nil)
	if err != nil {
		return Info{}, err
	}
	defer resp.Body.Close()
	var in Info
	if err := json.NewDecoder(resp.Body).Decode(&in); err != nil {
		return Info{}, errdefs.Unavailablef("agent /v1/info: bad answer: %w", err)
	}
	return in, nil
}

// Changes is GET /v1/changes: it waits up to wait for the agent's change
// feed to pass after and returns its sequence number (after, unchanged,
// when nothing changed in time). A new agent process starts at 1.
func (c *Client) Changes(ctx context.Context, after uint64, wait time.Duration) (uint64, error) {
	q := url.Values{"after": {strconv.FormatUint(after, 10)}, "wait": {strconv.FormatFloat(wait.Seconds(), 'f', 3, 64)}}
	resp, err := c.do(ctx, "GET", "/v1/changes?"+q.Encode(), nil, nil)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var out struct {
		Seq uint64 `json:"seq"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return 0, errdefs.Unavailablef("agent changes: bad answer: %w", err)
	}
	return out.Seq, nil
}
