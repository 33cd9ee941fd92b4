package web

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

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

// adminRow is one row of a section: its cells, and its fields by column
// name (for the forms that edit it); Key names the object (the first
// column: a name, or a token's id).
type adminRow struct {
	Key   string
	Cells []string
	F     map[string]string
}

// adminSection is one API listing shown as a table.
type adminSection struct {
	ID, Title string
	cap       access.Capability
	method    string
	pattern   string
	query     url.Values
	Columns   []string
	Rows      []adminRow
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
		{ID: "exceptions", Title: "CVE exceptions", cap: access.CapListContainer, method: "GET", pattern: "/v1/images/{name}/exceptions"},
		{ID: "policy", Title: "Image policy", cap: access.CapListContainer, method: "GET", pattern: "/v1/image-policy", Object: true},
		{ID: "observability", Title: "Observability settings", cap: access.CapConfigureContainer, method: "GET", pattern: "/v1/settings/observability", Object: true},
	}
}

// rowActions is what a row's action forms get.
type rowActions struct {
	ID           string
	N            int
	Row          adminRow
	CSRF         string
	P            *access.Principal
	Capabilities []string
}

type adminData struct {
	Sections     []adminSection
	NewToken     *wire.NewHECToken
	NewAPIToken  *wire.NewToken
	Capabilities []string // every capability, for the role form's boxes
	Severities   []string // the image policy's maximum severities
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
	d := adminData{Severities: []string{"", "low", "medium", "high", "critical"}}
	for _, x := range access.AllCapabilities() {
		d.Capabilities = append(d.Capabilities, string(x))
	}
	for _, s := range adminSections() {
		if s.cap != api.Authenticated && !p.Can(s.cap) {
			continue
		}
		if s.ID == "tokens" && p.Can(access.CapEditAllTokens) {
			// Holders of edit_tokens_all see (and may revoke) everybody's.
			s.Title, s.query = "API tokens (everybody's)", url.Values{"all": {"true"}}
		}
		if s.ID == "exceptions" {
			var err error
			if s.Columns, s.Rows, err = c.exceptionRows(r); err != nil {
				return d, err
			}
			d.Sections = append(d.Sections, s)
			continue
		}
		var b api.Buffer
		if err := c.api.Invoke(&b, r, s.method, s.pattern, nil, s.query, nil); err != nil {
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

// exceptionRows lists the CVE exceptions of every catalogue entry, expired
// ones too; a row's Key is its image, F["cve"] its CVE.
func (c *Console) exceptionRows(r *http.Request) ([]string, []adminRow, error) {
	var ims []wire.Image
	if err := c.api.InvokeJSON(r, "GET", "/v1/images", nil, nil, nil, &ims); err != nil {
		return nil, nil, err
	}
	cols := []string{"image", "cve", "until", "expired", "reason", "created_by"}
	var rows []adminRow
	for _, im := range ims {
		if im.Builtin {
			continue
		}
		var exs []wire.ImageException
		if err := c.api.InvokeJSON(r, "GET", "/v1/images/{name}/exceptions", map[string]string{"name": im.Name}, nil, nil, &exs); err != nil {
			return nil, nil, err
		}
		for _, x := range exs {
			cells := []string{x.Image, x.CVE, x.Until.UTC().Format(time.RFC3339), fmt.Sprint(x.Expired), x.Reason, x.CreatedBy}
			rows = append(rows, adminRow{Key: x.Image, Cells: cells, F: map[string]string{"cve": x.CVE}})
		}
	}
	return cols, rows, nil
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
func tableOf(raw []byte) ([]string, []adminRow, error) {
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, nil, err
	}
	var cols []string
	var rows []adminRow
	for i, it := range items {
		keys, vals, err := orderedObject(it)
		if err != nil {
			return nil, nil, err
		}
		if i == 0 {
			cols = keys
		}
		row := adminRow{Cells: make([]string, len(cols)), F: map[string]string{}}
		for j, k := range cols {
			row.Cells[j] = cellText(vals[k])
			row.F[k] = row.Cells[j]
		}
		if len(row.Cells) > 0 {
			row.Key = row.Cells[0]
		}
		rows = append(rows, row)
	}
	return cols, rows, nil
}

// objectRows shows a JSON object as rows of field and value; every row's
// F holds all the object's fields, for the form that edits it.
func objectRows(raw []byte) ([]adminRow, error) {
	keys, vals, err := orderedObject(raw)
	if err != nil {
		return nil, err
	}
	f := map[string]string{}
	for _, k := range keys {
		f[k] = cellText(vals[k])
	}
	var rows []adminRow
	for _, k := range keys {
		rows = append(rows, adminRow{Key: k, Cells: []string{k, f[k]}, F: f})
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
	if err := confirmed(r, "deleting a user"); err != nil {
		return err
	}
	name := r.PathValue("name")
	if err := c.api.InvokeJSON(r, "DELETE", "/v1/users/{name}", map[string]string{"name": name}, nil, nil, nil); err != nil {
		return err
	}
	return done(w, r, "/admin#users", "user "+name+" deleted")
}

// adminAddHECToken creates a HEC token and shows its secret once, on the
// page that answers the form (never in an address).
func (c *Console) adminAddHECToken(w http.ResponseWriter, r *http.Request) error {
	req := wire.HECTokenRequest{Name: strings.TrimSpace(r.PostFormValue("name")), Indexes: roleList(r.PostFormValue("indexes")),
		DefaultIndex: strings.TrimSpace(r.PostFormValue("default_index")), UseAck: r.PostFormValue("use_ack") == "yes"}
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
