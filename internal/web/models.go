package web

import (
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/dockyard/dockyard/internal/api"
	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/wire"
)

func (c *Console) modelRoutes() []api.Route {
	return []api.Route{
		page("GET", "/models", api.Authenticated, "model.list", c.models),
		page("GET", "/models/{ref}", api.Authenticated, "model.show", c.model),
		page("POST", "/models/{ref}/rollback", api.Authenticated, "model.rollback", c.modelRollback),
		page("POST", "/models/{ref}/alias", api.Authenticated, "model.alias.set", c.modelAlias),
		page("POST", "/models/{ref}/share", api.Authenticated, "model.share", c.modelShare),
		page("POST", "/models/{ref}/delete", api.Authenticated, "model.delete", c.modelDelete),
	}
}

// modelFilters are the list's filters, as GET /v1/models takes them.
var modelFilters = []string{"search", "app", "owner", "sharing", "algo", "tag"}

type modelRow struct {
	wire.Model
	Href string
}

type modelsData struct {
	Filter url.Values
	Models []modelRow
	Next   string
}

// modelHref is the page of m: /models/[app:]NAME, with ?owner= for a
// private model.
func modelHref(name, sharing, owner string) string {
	if sharing == "user" {
		return "/models/" + url.PathEscape(name) + "?owner=" + url.QueryEscape(owner)
	}
	return "/models/" + url.PathEscape("app:"+name)
}

func (c *Console) models(w http.ResponseWriter, r *http.Request) error {
	q := url.Values{}
	f := url.Values{}
	for _, k := range modelFilters {
		if v := strings.TrimSpace(r.URL.Query().Get(k)); v != "" {
			q.Set(k, v)
			f.Set(k, v)
		}
	}
	if a := r.URL.Query().Get("after"); a != "" {
		q.Set("after", a)
	}
	var pg wire.ModelPage
	if err := c.api.InvokeJSON(r, "GET", "/v1/models", nil, q, nil, &pg); err != nil {
		return err
	}
	d := modelsData{Filter: f}
	for _, m := range pg.Models {
		d.Models = append(d.Models, modelRow{Model: m, Href: modelHref(m.Name, m.Sharing, m.Owner)})
	}
	if pg.Next != "" {
		n := url.Values{}
		for k, v := range f {
			n[k] = v
		}
		n.Set("after", pg.Next)
		d.Next = "/models?" + n.Encode()
	}
	return c.render(w, r, http.StatusOK, "models", "Models", d)
}

type modelData struct {
	S        wire.ModelSummary
	Ref      string // the {ref} path segment
	Owner    string // ?owner= of a private model
	Self     string // this page's address
	Versions []wire.ModelVersion
	History  []wire.ModelAliasMove
	Plots    []plot
	Aliases  []aliasRow
	Previous int // the newest version before the current one (0: none), the rollback form's default
}

type aliasRow struct {
	Alias   string
	Version int
}

// modelQuery is the ?owner= the API needs for the model of r.
func modelQuery(r *http.Request) url.Values {
	q := url.Values{}
	if o := r.URL.Query().Get("owner"); o != "" {
		q.Set("owner", o)
	}
	return q
}

func (c *Console) model(w http.ResponseWriter, r *http.Request) error {
	ref := r.PathValue("ref")
	path, q := map[string]string{"ref": ref}, modelQuery(r)
	d := modelData{Ref: ref, Owner: q.Get("owner"), Self: "/models/" + url.PathEscape(ref)}
	if len(q) > 0 {
		d.Self += "?" + q.Encode()
	}
	if err := c.api.InvokeJSON(r, "GET", "/v1/models/{ref}", path, q, nil, &d.S); err != nil {
		return err
	}
	if err := c.api.InvokeJSON(r, "GET", "/v1/models/{ref}/versions", path, q, nil, &d.Versions); err != nil {
		return err
	}
	if err := c.api.InvokeJSON(r, "GET", "/v1/models/{ref}/history", path, q, nil, &d.History); err != nil {
		return err
	}
	sort.Slice(d.Versions, func(i, j int) bool { return d.Versions[i].Version > d.Versions[j].Version })
	for a, v := range d.S.Aliases {
		d.Aliases = append(d.Aliases, aliasRow{a, v})
	}
	sort.Slice(d.Aliases, func(i, j int) bool { return d.Aliases[i].Alias < d.Aliases[j].Alias })
	d.Plots = metricPlots(d.Versions)
	for _, v := range d.Versions { // newest first
		if v.Version < d.S.Version {
			d.Previous = v.Version
			break
		}
	}
	return c.render(w, r, http.StatusOK, "model", "Model "+d.S.Name, d)
}

// back is the model page of the form's request.
func modelPage(r *http.Request) string {
	s := "/models/" + url.PathEscape(r.PathValue("ref"))
	if q := modelQuery(r); len(q) > 0 {
		s += "?" + q.Encode()
	}
	return s
}

func formInt(r *http.Request, key string) (int, error) {
	v := strings.TrimSpace(r.PostFormValue(key))
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return 0, errdefs.Invalidf("%s %q is not a version number: give one from 1", key, v)
	}
	return n, nil
}

func (c *Console) modelRollback(w http.ResponseWriter, r *http.Request) error {
	n, err := formInt(r, "to")
	if err != nil {
		return err
	}
	req := wire.ModelRollbackRequest{To: n, Reason: r.PostFormValue("reason")}
	var mv wire.ModelAliasMove
	if err := c.api.InvokeJSON(r, "POST", "/v1/models/{ref}/rollback", map[string]string{"ref": r.PathValue("ref")}, modelQuery(r), req, &mv); err != nil {
		return err
	}
	return done(w, r, modelPage(r), "current moved from version "+strconv.Itoa(mv.From)+" to version "+strconv.Itoa(mv.To))
}

func (c *Console) modelAlias(w http.ResponseWriter, r *http.Request) error {
	n, err := formInt(r, "version")
	if err != nil {
		return err
	}
	req := wire.ModelAliasRequest{Alias: strings.TrimSpace(r.PostFormValue("alias")), Version: n, Reason: r.PostFormValue("reason")}
	if err := c.api.InvokeJSON(r, "POST", "/v1/models/{ref}/aliases", map[string]string{"ref": r.PathValue("ref")}, modelQuery(r), req, nil); err != nil {
		return err
	}
	return done(w, r, modelPage(r), "alias "+req.Alias+" now points at version "+strconv.Itoa(n))
}

// roleList reads a comma- or space-separated list of roles.
func roleList(s string) []string {
	return append([]string{}, strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' })...)
}

func (c *Console) modelShare(w http.ResponseWriter, r *http.Request) error {
	read, write := roleList(r.PostFormValue("read")), roleList(r.PostFormValue("write"))
	req := wire.ModelShareRequest{Sharing: r.PostFormValue("sharing"), Read: &read, Write: &write}
	var m wire.Model
	if err := c.api.InvokeJSON(r, "POST", "/v1/models/{ref}/share", map[string]string{"ref": r.PathValue("ref")}, modelQuery(r), req, &m); err != nil {
		return err
	}
	return done(w, r, modelHref(m.Name, m.Sharing, m.Owner), "sharing is now "+m.Sharing)
}

func (c *Console) modelDelete(w http.ResponseWriter, r *http.Request) error {
	if r.PostFormValue("confirm") != "yes" {
		return errdefs.Invalid("deleting a model needs the confirmation box ticked")
	}
	if err := c.api.InvokeJSON(r, "DELETE", "/v1/models/{ref}", map[string]string{"ref": r.PathValue("ref")}, modelQuery(r), nil, nil); err != nil {
		return err
	}
	return done(w, r, "/models", "model deleted")
}
