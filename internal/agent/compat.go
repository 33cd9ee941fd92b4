package agent

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/dockyard/dockyard/internal/agent/runner"
	"github.com/dockyard/dockyard/internal/errdefs"
)

// handleFit is the seed's POST /fit: init, fit, save, apply, or with
// mode=stage only store the data and meta.
func (a *Agent) handleFit(w http.ResponseWriter, r *http.Request) { a.handleCompat(w, r, "fit") }

// handleApply is the seed's POST /apply: load, apply.
func (a *Agent) handleApply(w http.ResponseWriter, r *http.Request) { a.handleCompat(w, r, "apply") }

func (a *Agent) handleCompat(w http.ResponseWriter, r *http.Request, op string) {
	var in struct {
		Data string          `json:"data"`
		Meta json.RawMessage `json:"meta"`
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, a.cfg.MaxBodyBytes))
	if err := dec.Decode(&in); err != nil {
		if !tooLarge(err) {
			err = errdefs.Invalidf("request body is not the JSON {\"data\": \"<CSV>\", \"meta\": {...}}: %w", err)
		}
		writeError(w, err)
		return
	}
	req, err := parseMeta(in.Meta, true)
	if err != nil {
		writeError(w, err)
		return
	}
	if op == "fit" && req.Mode == "stage" {
		msg, err := a.stage(req, strings.NewReader(in.Data))
		if err != nil {
			writeError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, answer{Status: "staged", Message: msg})
		return
	}
	rows := int64(strings.Count(in.Data, "\n"))
	data, err := a.spool(strings.NewReader(in.Data))
	in.Data = "" // let the collector have it while the notebook runs
	if err != nil {
		writeError(w, err)
		return
	}
	defer os.Remove(data)
	results := data + ".results.csv"
	defer os.Remove(results)
	res, files, err := a.runJob(r.Context(), op, req, data, rows, results, a.logEvent)
	if err != nil {
		writeError(w, err)
		return
	}
	ans := answer{Status: res.Status, Message: message(op, req, res), Messages: res.Messages, Rows: res.Rows,
		ResultRows: res.ResultRows, FitInfo: res.FitInfo, Files: files}
	if res.Status == "success" {
		b, err := os.ReadFile(results)
		if err != nil && !os.IsNotExist(err) {
			writeError(w, fmt.Errorf("reading %s results: %w", op, err))
			return
		}
		ans.Results = string(b)
	}
	writeJSON(w, http.StatusOK, ans)
}

// handleSummary is the seed's GET /summary (?algo=NOTEBOOK&model_name=M),
// also as POST {"meta": {...}}.
func (a *Agent) handleSummary(w http.ResponseWriter, r *http.Request) {
	var raw json.RawMessage
	pin := r.URL.Query().Get("notebook_sha256")
	if r.Method == http.MethodPost {
		var in struct {
			Meta           json.RawMessage `json:"meta"`
			NotebookSHA256 string          `json:"notebook_sha256"`
		}
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&in); err != nil {
			writeError(w, errdefs.Invalidf("request body is not the JSON {\"meta\": {...}}: %w", err))
			return
		}
		raw, pin = in.Meta, in.NotebookSHA256
	} else {
		q := r.URL.Query()
		raw, _ = json.Marshal(map[string]any{"options": map[string]any{
			"params": map[string]string{"algo": q.Get("algo")}, "model_name": q.Get("model_name")}})
	}
	req, err := parseMeta(raw, false)
	req.NotebookSHA256 = pin
	if err != nil {
		writeError(w, err)
		return
	}
	nb, err := a.notebookRef(req)
	if err != nil {
		writeError(w, err)
		return
	}
	rn, err := a.runner.get(r.Context())
	if err != nil {
		writeError(w, err)
		return
	}
	save := ""
	if req.ModelName != "" {
		save = req.SaveName()
	}
	res, err := a.call(r.Context(), rn, runner.Request{Op: "summary", Notebook: req.Algo, NotebookFile: nb, NotebookSHA256: req.NotebookSHA256, SaveName: save, Meta: req.Meta}, a.logEvent)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, answer{Status: res.Status, Message: message("summary", req, res), Messages: res.Messages, Summary: res.Summary})
}

// runJob runs fit or apply on the spooled data file. For a fit it also
// returns the manifest of the model files the call wrote.
func (a *Agent) runJob(ctx context.Context, op string, req request, data string, rows int64, results string, onEvent func(runner.Event)) (runner.Result, []FileInfo, error) {
	a.jobMu.Lock()
	defer a.jobMu.Unlock()
	nb, err := a.notebookRef(req)
	if err != nil {
		return runner.Result{}, nil, err
	}
	rn, err := a.runner.get(ctx)
	if err != nil {
		return runner.Result{}, nil, err
	}
	var before map[string]fileStamp
	if op == "fit" {
		if before, err = a.stamps(); err != nil {
			return runner.Result{}, nil, err
		}
	}
	res, err := a.call(ctx, rn, runner.Request{Op: op, Notebook: req.Algo, NotebookFile: nb, NotebookSHA256: req.NotebookSHA256, SaveName: req.SaveName(), Data: data, Rows: rows, Results: results, Meta: req.Meta}, onEvent)
	if err != nil || op != "fit" || res.Status != "success" {
		return res, nil, err
	}
	files, err := a.changedSince(before)
	return res, files, err
}

// notebookRef returns the pinned notebook file a request names ("" for
// none: the runner finds notebooks/<algo>.ipynb or .py).
func (a *Agent) notebookRef(req request) (string, error) {
	if req.NotebookSHA256 == "" {
		return "", nil
	}
	return a.pinnedFile(req.NotebookSHA256)
}

func (a *Agent) logEvent(ev runner.Event) {
	if ev.Type == "log" {
		a.log.Info("notebook output", "stream", ev.Stream, "line", ev.Line)
	}
}

// message is the answer's message: the error (a notebook's traceback), or
// what was done and anything the runner noted.
func message(op string, req request, res runner.Result) string {
	if res.Status != "success" {
		return res.Message
	}
	var s string
	switch op {
	case "fit":
		s = fmt.Sprintf("notebook %s fitted model %s on %d rows", req.Algo, req.ModelName, res.Rows)
	case "apply":
		s = fmt.Sprintf("notebook %s applied model %s to %d rows", req.Algo, req.ModelName, res.Rows)
	default:
		s = fmt.Sprintf("summary of notebook %s", req.Algo)
	}
	if len(res.Messages) > 0 {
		s += "; " + strings.Join(res.Messages, "; ")
	}
	return s
}

// spool copies data to a new file under the agent's temporary directory.
func (a *Agent) spool(data io.Reader) (string, error) {
	f, err := os.CreateTemp(a.tmpDir, "data-*.csv")
	if err != nil {
		return "", fmt.Errorf("spooling rows: %w", err)
	}
	if _, err := io.Copy(f, data); err != nil {
		f.Close()
		os.Remove(f.Name())
		return "", fmt.Errorf("spooling rows: %w", err)
	}
	if err := f.Close(); err != nil {
		os.Remove(f.Name())
		return "", fmt.Errorf("spooling rows: %w", err)
	}
	return f.Name(), nil
}

// stage stores the rows as data/<model_name>.csv and the meta as
// data/<model_name>.json under the notebooks directory (mode=stage).
func (a *Agent) stage(req request, data io.Reader) (string, error) {
	base := filepath.Join(a.dataDir, req.ModelName)
	tmp, err := a.spool(data)
	if err != nil {
		return "", err
	}
	if err := os.Rename(tmp, base+".csv"); err != nil {
		os.Remove(tmp)
		return "", fmt.Errorf("staging data: %w", err)
	}
	if err := writeFileAtomic(base+".json", req.Meta); err != nil {
		return "", fmt.Errorf("staging meta: %w", err)
	}
	return fmt.Sprintf("data and meta staged as data/%s.csv and data/%s.json in the notebooks directory", req.ModelName, req.ModelName), nil
}

func writeFileAtomic(path string, b []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		os.Remove(f.Name())
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(f.Name())
		return err
	}
	if err := os.Rename(f.Name(), path); err != nil {
		os.Remove(f.Name())
		return err
	}
	return nil
}
