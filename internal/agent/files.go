package agent

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/dockyard/dockyard/internal/errdefs"
)

// FileInfo is one entry of a model-file manifest.
type FileInfo struct {
	Path   string `json:"path"` // slash-separated, relative to app/model/data
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"` // hex
}

// maxNotebookBytes bounds a notebook upload.
const maxNotebookBytes = 64 << 20

type fileStamp struct {
	size int64
	mod  time.Time
}

// stamps records size and modification time of every model file.
func (a *Agent) stamps() (map[string]fileStamp, error) {
	out := map[string]fileStamp{}
	err := filepath.WalkDir(a.modelDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !d.Type().IsRegular() {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(a.modelDir, p)
		out[filepath.ToSlash(rel)] = fileStamp{fi.Size(), fi.ModTime()}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("listing model files: %w", err)
	}
	return out, nil
}

// changedSince returns the manifest of model files that are new or changed
// since before (the files a fit's save wrote).
func (a *Agent) changedSince(before map[string]fileStamp) ([]FileInfo, error) {
	after, err := a.stamps()
	if err != nil {
		return nil, err
	}
	var out []FileInfo
	for p, st := range after {
		if old, ok := before[p]; ok && old == st {
			continue
		}
		fi, err := a.hashModelFile(p)
		if err != nil {
			return nil, err
		}
		out = append(out, fi)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

// Manifest lists every model file with its size and SHA-256.
func (a *Agent) Manifest() ([]FileInfo, error) {
	return a.changedSince(nil)
}

func (a *Agent) hashModelFile(rel string) (FileInfo, error) {
	f, err := os.Open(filepath.Join(a.modelDir, filepath.FromSlash(rel)))
	if err != nil {
		return FileInfo{}, fmt.Errorf("model file %q: %w", rel, err)
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return FileInfo{}, fmt.Errorf("model file %q: %w", rel, err)
	}
	return FileInfo{Path: rel, Size: n, SHA256: hex.EncodeToString(h.Sum(nil))}, nil
}

// relPath checks a slash-separated path below a directory.
func relPath(what, p string) (string, error) {
	if p == "" || !filepath.IsLocal(p) || path.Clean(p) != p || strings.Contains(p, "\\") {
		return "", errdefs.Invalidf("%s %q: give a clean relative path", what, p)
	}
	return p, nil
}

func (a *Agent) handleModelList(w http.ResponseWriter, r *http.Request) {
	files, err := a.Manifest()
	if err != nil {
		writeError(w, err)
		return
	}
	if files == nil {
		files = []FileInfo{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"files": files})
}

func (a *Agent) handleModelGet(w http.ResponseWriter, r *http.Request) {
	p, err := relPath("model file", r.PathValue("path"))
	if err != nil {
		writeError(w, err)
		return
	}
	root, err := os.OpenRoot(a.modelDir)
	if err != nil {
		writeError(w, err)
		return
	}
	defer root.Close()
	f, err := root.Open(p)
	if err != nil {
		writeError(w, errdefs.NotFoundf("model file %q not found", p))
		return
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() {
		writeError(w, errdefs.NotFoundf("model file %q is not a regular file", p))
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	http.ServeContent(w, r, "", st.ModTime(), f)
}

// handleModelPut writes one model file (restoring a model version before
// apply). With the header X-Dockyard-SHA256 the content is verified before
// it replaces anything.
func (a *Agent) handleModelPut(w http.ResponseWriter, r *http.Request) {
	p, err := relPath("model file", r.PathValue("path"))
	if err != nil {
		writeError(w, err)
		return
	}
	fi, err := a.putFile(a.modelDir, p, http.MaxBytesReader(w, r.Body, a.cfg.MaxBodyBytes), r.Header.Get("X-Dockyard-SHA256"))
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, fi)
}

func (a *Agent) handleModelDelete(w http.ResponseWriter, r *http.Request) {
	p, err := relPath("model file", r.PathValue("path"))
	if err != nil {
		writeError(w, err)
		return
	}
	root, err := os.OpenRoot(a.modelDir)
	if err != nil {
		writeError(w, err)
		return
	}
	defer root.Close()
	if err := root.Remove(p); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			writeError(w, errdefs.NotFoundf("model file %q not found", p))
			return
		}
		writeError(w, fmt.Errorf("removing model file %q: %w", p, err))
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// putFile writes body to dir/p through a temporary file, verifying
// wantSHA (hex) when given.
func (a *Agent) putFile(dir, p string, body io.Reader, wantSHA string) (FileInfo, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return FileInfo{}, err
	}
	defer root.Close()
	if d := path.Dir(p); d != "." {
		if err := root.MkdirAll(d, 0o755); err != nil {
			return FileInfo{}, fmt.Errorf("creating %q: %w", d, err)
		}
	}
	var rnd [8]byte
	_, _ = rand.Read(rnd[:])
	tmp := path.Join(path.Dir(p), ".upload-"+hex.EncodeToString(rnd[:]))
	f, err := root.OpenFile(tmp, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		return FileInfo{}, fmt.Errorf("writing %q: %w", p, err)
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(f, h), body)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		root.Remove(tmp)
		if tooLarge(err) {
			return FileInfo{}, err
		}
		return FileInfo{}, fmt.Errorf("writing %q: %w", p, err)
	}
	sum := hex.EncodeToString(h.Sum(nil))
	if wantSHA != "" && !strings.EqualFold(wantSHA, sum) {
		root.Remove(tmp)
		return FileInfo{}, errdefs.Invalidf("file %q: content has SHA-256 %s, not the %s the request named; nothing was written", p, sum, wantSHA)
	}
	if err := root.Rename(tmp, p); err != nil {
		root.Remove(tmp)
		return FileInfo{}, fmt.Errorf("writing %q: %w", p, err)
	}
	return FileInfo{Path: p, Size: n, SHA256: sum}, nil
}

func notebookName(name string) error {
	base := strings.TrimSuffix(strings.TrimSuffix(name, ".ipynb"), ".py")
	if base == name {
		return errdefs.Invalidf("notebook %q: the name must end in .ipynb or .py", name)
	}
	return validName("notebook", base)
}

// readNotebookBody reads a notebook sent to the agent (at most
// maxNotebookBytes); an .ipynb must be nbformat JSON with a cells list.
// what names the kind of notebook in the error ("notebook", "pinned notebook").
func readNotebookBody(w http.ResponseWriter, r *http.Request, what, name string) ([]byte, error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxNotebookBytes))
	if err != nil {
		return nil, err
	}
	if strings.HasSuffix(name, ".ipynb") {
		var nb struct {
			Cells []json.RawMessage `json:"cells"`
		}
		if err := json.Unmarshal(body, &nb); err != nil || nb.Cells == nil {
			return nil, errdefs.Invalidf("%s %q is not nbformat JSON with a \"cells\" list", what, name)
		}
	}
	return body, nil
}

func (a *Agent) handleNotebookPut(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if err := notebookName(name); err != nil {
		writeError(w, err)
		return
	}
	body, err := readNotebookBody(w, r, "notebook", name)
	if err != nil {
		writeError(w, err)
		return
	}
	fi, err := a.putFile(a.nbDir, name, strings.NewReader(string(body)), r.Header.Get("X-Dockyard-SHA256"))
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, fi)
}

func (a *Agent) handleNotebookGet(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if err := notebookName(name); err != nil {
		writeError(w, err)
		return
	}
	// Read through the notebooks root: a symlink a notebook left there
	// cannot make the agent serve a file from outside it.
	b, err := readInRoot(a.nbDir, name)
	if err != nil {
		writeError(w, errdefs.NotFoundf("notebook %q not found: push it with PUT /v1/notebooks/%s", name, name))
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	_, _ = w.Write(b)
}

func (a *Agent) handleNotebookList(w http.ResponseWriter, r *http.Request) {
	ents, err := os.ReadDir(a.nbDir)
	if err != nil {
		writeError(w, err)
		return
	}
	out := []FileInfo{}
	for _, e := range ents {
		if e.Type().IsRegular() && notebookName(e.Name()) == nil {
			b, err := readInRoot(a.nbDir, e.Name())
			if err != nil {
				continue
			}
			sum := sha256.Sum256(b)
			out = append(out, FileInfo{Path: e.Name(), Size: int64(len(b)), SHA256: hex.EncodeToString(sum[:])})
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"notebooks": out})
}

// handleInfo reports the runner's interpreter and the agent's memory use.
func (a *Agent) handleInfo(w http.ResponseWriter, r *http.Request) {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	info := map[string]any{"pid": os.Getpid(), "runner_pid": a.RunnerPid(), "go_heap_alloc": ms.HeapAlloc, "go_sys": ms.Sys}
	if rn, err := a.runner.get(r.Context()); err == nil {
		ri := rn.Info()
		info["python"], info["python_version"], info["pandas"] = ri.Python, ri.Version, ri.Pandas
	} else {
		info["runner_error"] = err.Error()
	}
	writeJSON(w, http.StatusOK, info)
}

// readInRoot reads name inside dir, refusing paths and symlinks that lead
// out of it.
func readInRoot(dir, name string) ([]byte, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	return root.ReadFile(name)
}
