package api

import (
	"io"
	"net/http"
	"strconv"

	"github.com/dockyard/dockyard/internal/access"
	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/lookups"
	"github.com/dockyard/dockyard/internal/wire"
)

// LookupsAPI serves CSV lookup tables: upload, list, download, share and
// delete. The routes need the search capability; the lookups service checks
// each lookup's ACL (a lookup the caller may not read is not found) and
// audits every change itself.
type LookupsAPI struct {
	*API
	Lookups *lookups.Service
}

// Routes lists the lookup routes.
func (l *LookupsAPI) Routes() []Route {
	return []Route{
		{Method: "POST", Pattern: "/v1/lookups", Cap: access.CapSearch, Action: "lookup.upload", Handle: l.upload},
		{Method: "GET", Pattern: "/v1/lookups", Cap: access.CapSearch, Action: "lookup.list", Handle: l.list},
		{Method: "GET", Pattern: "/v1/lookups/{name}", Cap: access.CapSearch, Action: "lookup.download", Handle: l.download},
		{Method: "GET", Pattern: "/v1/lookups/{name}/info", Cap: access.CapSearch, Action: "lookup.show", Handle: l.info},
		{Method: "DELETE", Pattern: "/v1/lookups/{name}", Cap: access.CapSearch, Action: "lookup.delete", Handle: l.delete},
		{Method: "POST", Pattern: "/v1/lookups/{name}/share", Cap: access.CapSearch, Action: "lookup.share", Handle: l.share},
	}
}

// LookupWire converts a lookup to its wire form.
func LookupWire(x lookups.Lookup) wire.Lookup {
	return wire.Lookup{Name: x.Name, App: x.App, Owner: x.Owner, Sharing: string(x.Sharing),
		Read: nonNil(x.Read), Write: nonNil(x.Write), Digest: x.Digest, Size: x.Size,
		Created: x.Created, Updated: x.Updated,
		Perms: wire.LookupPerms{Read: x.Perms.Read, Write: x.Perms.Write, Share: x.Perms.Share}}
}

// lookupApp is the ?app= of the request; empty means the caller's app.
func lookupApp(r *http.Request) (string, error) {
	app := r.URL.Query().Get("app")
	if app != "" {
		if err := access.ValidateApp(app); err != nil {
			return "", err
		}
	}
	return app, nil
}

// upload stores the body, a CSV table, as the lookup ?name=NAME.csv. The
// body streams into the service, which reads at most lookups.max_bytes.
func (l *LookupsAPI) upload(w http.ResponseWriter, r *http.Request) error {
	name := r.URL.Query().Get("name")
	if name == "" {
		return errdefs.Invalid("pass the lookup's name as ?name=NAME.csv")
	}
	if err := lookups.ValidateName(name); err != nil {
		return err
	}
	app, err := lookupApp(r)
	if err != nil {
		return err
	}
	x, err := l.Lookups.Upload(r.Context(), app, name, r.Body)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, LookupWire(x))
}

func (l *LookupsAPI) list(w http.ResponseWriter, r *http.Request) error {
	app, err := lookupApp(r)
	if err != nil {
		return err
	}
	xs, err := l.Lookups.List(r.Context(), app)
	if err != nil {
		return err
	}
	out := make([]wire.Lookup, 0, len(xs))
	for _, x := range xs {
		out = append(out, LookupWire(x))
	}
	return writeJSON(w, http.StatusOK, out)
}

func (l *LookupsAPI) info(w http.ResponseWriter, r *http.Request) error {
	app, err := lookupApp(r)
	if err != nil {
		return err
	}
	x, err := l.Lookups.Get(r.Context(), app, r.PathValue("name"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, LookupWire(x))
}

// download answers the CSV content of the lookup the name resolves to.
func (l *LookupsAPI) download(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	app, err := lookupApp(r)
	if err != nil {
		return err
	}
	x, rc, err := l.Lookups.Fetch(r.Context(), app, name)
	if err != nil {
		return err
	}
	defer rc.Close()
	h := w.Header()
	h.Set("Content-Type", "text/csv; charset=utf-8")
	h.Set("Content-Length", strconv.FormatInt(x.Size, 10))
	h.Set("Dockyard-Lookup-App", x.App)
	h.Set("Dockyard-Lookup-Digest", x.Digest)
	w.WriteHeader(http.StatusOK)
	if _, err := io.Copy(w, rc); err != nil {
		l.Log.Warn("lookup download cut off", "lookup", name, "err", err, "request_id", RequestID(r.Context()))
	}
	return nil
}

func (l *LookupsAPI) delete(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	app, err := lookupApp(r)
	if err != nil {
		return err
	}
	if err := l.Lookups.Delete(r.Context(), app, name); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]string{"status": "deleted", "name": name})
}

func (l *LookupsAPI) share(w http.ResponseWriter, r *http.Request) error {
	var req wire.LookupShare
	if err := decode(w, r, &req); err != nil {
		return err
	}
	sharing, err := access.ParseSharing(req.Sharing)
	if err != nil {
		return err
	}
	app, err := lookupApp(r)
	if err != nil {
		return err
	}
	x, err := l.Lookups.Share(r.Context(), app, r.PathValue("name"), sharing, req.Read, req.Write)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, LookupWire(x))
}
