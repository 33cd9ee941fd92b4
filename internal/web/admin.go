package web

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/dockyard/dockyard/internal/access"
	"github.com/dockyard/dockyard/internal/api"
	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/wire"
)

func (c *Console) adminRoutes() []api.Route {
	return []api.Route{
		page("GET", "/admin", api.Authenticated, "admin.show", c.admin),
		page("POST", "/admin/users", access.CapEditUser, "user.create", c.adminAddUser),
		page("POST", "/admin/users/{name}/delete", access.CapEditUser, "user.delete", c.adminDeleteUser),
		page("POST", "/admin/hec-tokens", access.CapEditHECToken, "hec_token.create", c.adminAddHECToken),
	}
}

// adminSection is one API listing shown as a table.
type adminSection struct {
	ID, Title string
	cap       access.Capability
	method    string
	pattern   string
	Columns   []string
	Rows      [][]string
	Object    bool // the answer is one object: shown as rows of field and value
}

// adminSections are the listings of the administration page, each shown
// only to those whose capabilities its API route needs.
func adminSections() []adminSection {
	return []adminSection{
		{ID: "users", Title: "Users", cap: access.CapEditUser, method: "GET", pattern: "/v1/users"},
		{ID: "roles", Title: "Roles and capabilities", cap: access.CapEditRoles, method: "GET", pattern: "/v1/roles"},
		{ID: "apps", Title: "Apps", cap: api.Authenticated, method: "GET", pattern: "/v1/apps"},
		{ID: "tokens", Title: "Your API tokens", cap: access.CapEditOwnTokens, method: "GET", pattern: "/v1/tokens"},
		{ID: "hec", Title: "HEC tokens", cap: access.CapEditHECToken, method: "GET", pattern: "/v1/hec/tokens"},
		{ID: "images", Title: "Images", cap: access.CapListContainer, method: "GET", pattern: "/v1/images"},
		{ID: "policy", Title: "Image policy", cap: access.CapListContainer, method: "GET", pattern: "/v1/image-policy", Object: true},
		{ID: "observability", Title: "Observability settings", cap: access.CapConfigureContainer, method: "GET", pattern: "/v1/settings/observability", Object: true},
	}
}

type adminData struct {
	Sections []adminSection
	NewToken *wire.NewHECToken
}

func (c *Console) admin(w http.ResponseWriter, r *http.Request) error {
	d, err := c.adminData(r)
	if err != nil {
		return err
	}
	return c.render(w, r, http.StatusOK, "admin", "Administration", d)
}

func (c *Console) adminData(r *http.Request) (adminData, error) {
	p := access.FromContext(r.Context())
	var d adminData
	for _, s := range adminSections() {
		if s.cap != api.Authenticated && !p.Can(s.cap) {
			continue
		}
		var b api.Buffer
		if err := c.api.Invoke(&b, r, s.method, s.pattern, nil, nil, nil); err != nil {
			return d, err
		}
		var err error
		if s.Object {
			s.Columns = []string{"setting", "value"}
			s.Rows, err = objectRows(b.Bytes())
		} else {
			s.Columns, s.Rows, err = tableOf(b.Bytes())
		}
		if err != nil {
			return d, errdefs.Internalf("%s: %w", s.pattern, err)
		}
		d.Sections = append(d.Sections, s)
	}
	return d, nil
}

// orderedObject reads a JSON object's fields in their order.
func orderedObject(raw []byte) ([]string, map[string]json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, nil, fmt.Errorf("not a JSON object")
	}
	var keys []string
	vals := map[string]json.RawMessage{}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, nil, err
		}
		k, _ := t.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, nil, err
		}
		keys = append(keys, k)
		vals[k] = v
	}
	return keys, vals, nil
}

// cellText shows a JSON value in a cell: strings bare, lists joined,
// other values as JSON.
func cellText(v json.RawMessage) string {
	var s string
	if json.Unmarshal(v, &s) == nil {
		return s
	}
	var ss []string
	if json.Unmarshal(v, &ss) == nil {
		return strings.Join(ss, ", ")
	}
	if string(v) == "null" {
		return ""
	}
	return string(v)
}

// tableOf shows a JSON list of objects as columns (the first object's
// fields, in order) and rows.
func tableOf(raw []byte) ([]string, [][]string, error) {
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, nil, err
	}
	var cols []string
	var rows [][]string
	for i, it := range items {
		keys, vals, err := orderedObject(it)
		if err != nil {
			return nil, nil, err
		}
		if i == 0 {
			cols = keys
		}
		row := make([]string, len(cols))
		for j, k := range cols {
			row[j] = cellText(vals[k])
		}
		rows = append(rows, row)
	}
	return cols, rows, nil
}

func objectRows(raw []byte) ([][]string, error) {
	keys, vals, err := orderedObject(raw)
	if err != nil {
		return nil, err
	}
	var rows [][]string
	for _, k := range keys {
		rows = append(rows, []string{k, cellText(vals[k])})
	}
	return rows, nil
}

func (c *Console) adminAddUser(w http.ResponseWriter, r *http.Request) error {
	pw := r.PostFormValue("password")
	roles := roleList(r.PostFormValue("roles"))
	req := wire.UserRequest{Name: strings.TrimSpace(r.PostFormValue("name")), Password: &pw, Roles: &roles}
	if err := c.api.InvokeJSON(r, "POST", "/v1/users", nil, nil, req, nil); err != nil {
		return err
	}
	return done(w, r, "/admin#users", "user "+req.Name+" created")
}

func (c *Console) adminDeleteUser(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	if err := c.api.InvokeJSON(r, "DELETE", "/v1/users/{name}", map[string]string{"name": name}, nil, nil, nil); err != nil {
		return err
	}
	return done(w, r, "/admin#users", "user "+name+" deleted")
}

// adminAddHECToken creates a HEC token and shows its secret once, on the
// page that answers the form (never in an address).
func (c *Console) adminAddHECToken(w http.ResponseWriter, r *http.Request) error {
	req := wire.HECTokenRequest{Name: strings.TrimSpace(r.PostFormValue("name")), Indexes: roleList(r.PostFormValue("indexes"))}
	var nt wire.NewHECToken
	if err := c.api.InvokeJSON(r, "POST", "/v1/hec/tokens", nil, nil, req, &nt); err != nil {
		return err
	}
	d, err := c.adminData(r)
	if err != nil {
		return err
	}
	d.NewToken = &nt
	return c.render(w, r, http.StatusOK, "admin", "Administration", d)
}
