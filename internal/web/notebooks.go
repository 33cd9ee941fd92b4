package web

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/dockyard/dockyard/internal/api"
	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/wire"
)

func (c *Console) notebookRoutes() []api.Route {
	return []api.Route{
		page("GET", "/notebooks", api.Authenticated, "notebook.list", c.notebooks),
		page("GET", "/notebooks/{name}", api.Authenticated, "notebook.show", c.notebook),
		page("POST", "/notebooks/{name}/share", api.Authenticated, "notebook.share", c.notebookShare),
	}
}

func (c *Console) notebooks(w http.ResponseWriter, r *http.Request) error {
	var nbs []wire.Notebook
	if err := c.api.InvokeJSON(r, "GET", "/v1/notebooks", nil, nil, nil, &nbs); err != nil {
		return err
	}
	return c.render(w, r, http.StatusOK, "notebooks", "Notebooks", nbs)
}

type notebookData struct {
	N       wire.Notebook
	Name    string
	History []wire.NotebookVersion
	A, B    int
	Diff    []diffLine
	Shown   string // the text of version A when no diff is asked for
}

// versionParam reads ?key=N.
func versionParam(r *http.Request, key string) (int, error) {
	s := r.URL.Query().Get(key)
	if s == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		return 0, errdefs.Invalidf("%s=%q is not a version number: give one from 1", key, s)
	}
	return n, nil
}

func (c *Console) notebook(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	d := notebookData{Name: name}
	path := map[string]string{"name": name}
	if err := c.api.InvokeJSON(r, "GET", "/v1/notebooks/{name}", path, nil, nil, &d.N); err != nil {
		return err
	}
	if err := c.api.InvokeJSON(r, "GET", "/v1/notebooks/{name}/history", path, nil, nil, &d.History); err != nil {
		return err
	}
	var err error
	if d.A, err = versionParam(r, "a"); err != nil {
		return err
	}
	if d.B, err = versionParam(r, "b"); err != nil {
		return err
	}
	if d.A == 0 {
		d.A = d.N.Version
	}
	a, err := c.notebookText(r, name, d.A)
	if err != nil {
		return err
	}
	if d.B == 0 {
		d.Shown = a
	} else {
		b, err := c.notebookText(r, name, d.B)
		if err != nil {
			return err
		}
		d.Diff = diffLines(strings.Split(a, "\n"), strings.Split(b, "\n"))
	}
	return c.render(w, r, http.StatusOK, "notebook", "Notebook "+name, d)
}

// notebookText is version v of the notebook as text: the code of an
// .ipynb's cells (each headed by its name), else the file as it is.
func (c *Console) notebookText(r *http.Request, name string, v int) (string, error) {
	var b api.Buffer
	q := url.Values{"version": {strconv.Itoa(v)}}
	if err := c.api.Invoke(&b, r, "GET", "/v1/notebooks/{name}/content", map[string]string{"name": name}, q, nil); err != nil {
		return "", err
	}
	var nb struct {
		Cells []struct {
			CellType string          `json:"cell_type"`
			Source   json.RawMessage `json:"source"`
			Metadata map[string]any  `json:"metadata"`
		} `json:"cells"`
	}
	if json.Unmarshal(b.Bytes(), &nb) != nil || nb.Cells == nil {
		return b.String(), nil
	}
	var sb strings.Builder
	for _, cell := range nb.Cells {
		var src string
		var parts []string
		if json.Unmarshal(cell.Source, &parts) == nil {
			src = strings.Join(parts, "")
		} else {
			json.Unmarshal(cell.Source, &src)
		}
		head := "# [" + cell.CellType
		if n, ok := cell.Metadata["name"].(string); ok {
			head += " " + n
		}
		sb.WriteString(head + "]\n" + strings.TrimRight(src, "\n") + "\n\n")
	}
	return sb.String(), nil
}

func (c *Console) notebookShare(w http.ResponseWriter, r *http.Request) error {
	req := wire.LookupShare{Sharing: r.PostFormValue("sharing"), Read: roleList(r.PostFormValue("read")), Write: roleList(r.PostFormValue("write"))}
	if err := c.api.InvokeJSON(r, "POST", "/v1/notebooks/{name}/share", map[string]string{"name": r.PathValue("name")}, nil, req, nil); err != nil {
		return err
	}
	return done(w, r, "/notebooks/"+url.PathEscape(r.PathValue("name")), "sharing is now "+req.Sharing)
}

// diffLine is one line of a diff: Op is " ", "+" or "-".
type diffLine struct {
	Op, Text string
}

// maxDiffLines bounds the diff's quadratic work; longer texts are shown
// as all removed and all added.
const maxDiffLines = 3000

// diffLines is a line diff of a and b by longest common subsequence.
func diffLines(a, b []string) []diffLine {
	if len(a) > maxDiffLines || len(b) > maxDiffLines {
		var out []diffLine
		for _, l := range a {
			out = append(out, diffLine{"-", l})
		}
		for _, l := range b {
			out = append(out, diffLine{"+", l})
		}
		return out
	}
	n, m := len(a), len(b)
	lcs := make([][]int32, n+1)
	for i := range lcs {
		lcs[i] = make([]int32, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var out []diffLine
	i, j := 0, 0
	for i < n && j < m {
		switch {
		case a[i] == b[j]:
			out = append(out, diffLine{" ", a[i]})
			i++
			j++
		case lcs[i+1][j] >= lcs[i][j+1]:
			out = append(out, diffLine{"-", a[i]})
			i++
		default:
			out = append(out, diffLine{"+", b[j]})
			j++
		}
	}
	for ; i < n; i++ {
		out = append(out, diffLine{"-", a[i]})
	}
	for ; j < m; j++ {
		out = append(out, diffLine{"+", b[j]})
	}
	return out
}
