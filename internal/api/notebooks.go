package api

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"github.com/dockyard/dockyard/internal/access"
	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/notebooks"
	"github.com/dockyard/dockyard/internal/wire"
)

// NotebooksAPI serves notebook push, listing, history, content, share and
// delete. Only object ACLs apply: a notebook the caller may not read is not
// found. The notebook service audits pushes, shares and deletes, refusals
// included.
type NotebooksAPI struct {
	*API
	Notebooks *notebooks.Service
}

// Routes lists the notebook routes.
func (n *NotebooksAPI) Routes() []Route {
	return []Route{
		{Method: "GET", Pattern: "/v1/notebooks", Cap: Authenticated, Action: "notebook.list", Handle: n.list},
		{Method: "PUT", Pattern: "/v1/notebooks/{name}", Cap: Authenticated, Action: "notebook.push", Handle: n.push},
		{Method: "GET", Pattern: "/v1/notebooks/{name}", Cap: Authenticated, Action: "notebook.show", Handle: n.get},
		{Method: "GET", Pattern: "/v1/notebooks/{name}/history", Cap: Authenticated, Action: "notebook.history", Handle: n.history},
		{Method: "GET", Pattern: "/v1/notebooks/{name}/content", Cap: Authenticated, Action: "notebook.content", Handle: n.content},
		{Method: "POST", Pattern: "/v1/notebooks/{name}/share", Cap: Authenticated, Action: "notebook.share", Handle: n.share},
		{Method: "DELETE", Pattern: "/v1/notebooks/{name}", Cap: Authenticated, Action: "notebook.delete", Handle: n.delete},
	}
}

func notebookWire(i notebooks.Info) wire.Notebook {
	return wire.Notebook{Name: i.Name, App: i.App, Owner: i.Owner, Sharing: i.Sharing, Read: nonNil(i.Read), Write: nonNil(i.Write),
		Version: i.Current.Version, Format: i.Current.Format, Digest: i.Current.Digest, Size: i.Current.Size,
		Author: i.Current.Author, Updated: i.Updated, Created: i.Created}
}

func notebookVersionWire(v notebooks.Version) wire.NotebookVersion {
	return wire.NotebookVersion{Version: v.Version, Digest: v.Digest, Size: v.Size, Author: v.Author, Created: v.Created, Format: v.Format, Source: v.Source}
}

func (n *NotebooksAPI) list(w http.ResponseWriter, r *http.Request) error {
	is, err := n.Notebooks.List(r.Context(), access.FromContext(r.Context()))
	if err != nil {
		return err
	}
	out := make([]wire.Notebook, 0, len(is))
	for _, i := range is {
		out = append(out, notebookWire(i))
	}
	return writeJSON(w, http.StatusOK, out)
}

// push takes the notebook's bytes as the body; ?format=ipynb|py says what
// they are and ?sharing= the sharing of a notebook the push creates.
func (n *NotebooksAPI) push(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	format := q.Get("format")
	if format != notebooks.FormatIPYNB && format != notebooks.FormatPy {
		return errdefs.Invalid("format must be ipynb or py")
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, notebooks.MaxSize))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return errdefs.Wrap(errdefs.ErrLimit, mbe, fmt.Sprintf("notebook is larger than %d bytes: move data out of it into notebooks/data", notebooks.MaxSize))
		}
		return errdefs.Invalidf("reading the notebook: %w", err)
	}
	p := access.FromContext(r.Context())
	res, err := n.Notebooks.Push(r.Context(), p, notebooks.PushRequest{Name: r.PathValue("name"), Format: format,
		Content: body, Sharing: access.Sharing(q.Get("sharing"))})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, wire.NotebookPush{Notebook: notebookWire(res.Info), Changed: res.Changed})
}

func (n *NotebooksAPI) get(w http.ResponseWriter, r *http.Request) error {
	i, err := n.Notebooks.Get(r.Context(), access.FromContext(r.Context()), r.PathValue("name"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, notebookWire(i))
}

func (n *NotebooksAPI) history(w http.ResponseWriter, r *http.Request) error {
	_, vs, err := n.Notebooks.History(r.Context(), access.FromContext(r.Context()), r.PathValue("name"))
	if err != nil {
		return err
	}
	out := make([]wire.NotebookVersion, 0, len(vs))
	for _, v := range vs {
		out = append(out, notebookVersionWire(v))
	}
	return writeJSON(w, http.StatusOK, out)
}

// content answers the bytes of a version (?version=N, default the newest).
func (n *NotebooksAPI) content(w http.ResponseWriter, r *http.Request) error {
	version := 0
	if s := r.URL.Query().Get("version"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v < 1 {
			return errdefs.Invalid("version must be a number from 1")
		}
		version = v
	}
	_, v, b, err := n.Notebooks.Content(r.Context(), access.FromContext(r.Context()), r.PathValue("name"), version)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Dockyard-Notebook-Version", strconv.Itoa(v.Version))
	w.Header().Set("Dockyard-Notebook-Format", v.Format)
	w.Header().Set("Dockyard-Notebook-Digest", v.Digest)
	w.WriteHeader(http.StatusOK)
	_, err = w.Write(b)
	return err
}

// share takes a wire.LookupShare-shaped body: {"sharing", "read", "write"}.
func (n *NotebooksAPI) share(w http.ResponseWriter, r *http.Request) error {
	var req wire.LookupShare
	if err := decode(w, r, &req); err != nil {
		return err
	}
	sharing, err := access.ParseSharing(req.Sharing)
	if err != nil {
		return err
	}
	i, err := n.Notebooks.Share(r.Context(), access.FromContext(r.Context()), r.PathValue("name"), sharing, req.Read, req.Write)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, notebookWire(i))
}

func (n *NotebooksAPI) delete(w http.ResponseWriter, r *http.Request) error {
	d, err := n.Notebooks.Delete(r.Context(), access.FromContext(r.Context()), r.PathValue("name"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]string{"status": "deleted", "name": d.Name, "app": d.App})
}
