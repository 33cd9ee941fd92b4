package web

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/dockyard/dockyard/internal/access"
	"github.com/dockyard/dockyard/internal/api"
	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/wire"
)

// adminFormRoutes are the administration page's forms beyond creating
// users and HEC tokens. Each needs the capability of the API route it
// calls, and calls only that route (through Invoke, which checks it
// again and audits as the API does).
func (c *Console) adminFormRoutes() []api.Route {
	return []api.Route{
		page("POST", "/admin/users/{name}/update", access.CapEditUser, "user.update", c.adminUpdateUser),
		page("POST", "/admin/roles", access.CapEditRoles, "role.create", c.adminAddRole),
		page("POST", "/admin/roles/{name}/update", access.CapEditRoles, "role.update", c.adminUpdateRole),
		page("POST", "/admin/roles/{name}/delete", access.CapEditRoles, "role.delete", c.adminDeleteRole),
		page("POST", "/admin/apps", access.CapManageApps, "app.create", c.adminAddApp),
		page("POST", "/admin/apps/{name}/update", access.CapManageApps, "app.update", c.adminUpdateApp),
		page("POST", "/admin/apps/{name}/delete", access.CapManageApps, "app.delete", c.adminDeleteApp),
		page("POST", "/admin/tokens", access.CapEditOwnTokens, "token.create", c.adminAddToken),
		page("POST", "/admin/tokens/{id}/revoke", access.CapEditOwnTokens, "token.revoke", c.adminRevokeToken),
		page("POST", "/admin/hec-tokens/{name}/disable", access.CapEditHECToken, "hec_token.disable", c.adminHECState("disable")),
		page("POST", "/admin/hec-tokens/{name}/enable", access.CapEditHECToken, "hec_token.enable", c.adminHECState("enable")),
		page("POST", "/admin/hec-tokens/{name}/delete", access.CapEditHECToken, "hec_token.delete", c.adminDeleteHECToken),
		page("POST", "/admin/images", access.CapConfigureContainer, "image.add", c.adminAddImage),
		page("POST", "/admin/images/{name}/update", access.CapConfigureContainer, "image.update", c.adminUpdateImage),
		page("POST", "/admin/images/{name}/delete", access.CapConfigureContainer, "image.remove", c.adminRemoveImage),
		page("POST", "/admin/images/{name}/exceptions", access.CapConfigureContainer, "image.allow", c.adminAllowImage),
		page("POST", "/admin/images/{name}/exceptions/{cve}/delete", access.CapConfigureContainer, "image.disallow", c.adminDisallowImage),
		page("POST", "/admin/image-policy", access.CapConfigureContainer, "image.policy.set", c.adminSetPolicy),
		page("POST", "/admin/observability", access.CapConfigureContainer, "observability.update", c.adminSetObservability),
	}
}

// confirmed refuses a destructive form whose confirmation box is not
// ticked.
func confirmed(r *http.Request, what string) error {
	if r.PostFormValue("confirm") != "yes" {
		return errdefs.Invalidf("%s needs the confirmation box ticked: tick it and send the form again", what)
	}
	return nil
}

// checked reads a checkbox.
func checked(r *http.Request, key string) bool { return r.PostFormValue(key) == "yes" }

// adminUpdateUser changes a user's roles and, when the field is filled,
// password (PATCH /v1/users/{name}).
func (c *Console) adminUpdateUser(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	roles := roleList(r.PostFormValue("roles"))
	req := wire.UserRequest{Roles: &roles}
	if app := strings.TrimSpace(r.PostFormValue("default_app")); app != "" {
		req.DefaultApp = &app
	}
	if pw := r.PostFormValue("password"); pw != "" {
		req.Password = &pw
	}
	if err := c.api.InvokeJSON(r, "PATCH", "/v1/users/{name}", map[string]string{"name": name}, nil, req, nil); err != nil {
		return err
	}
	msg := "user " + name + " now has the roles " + strings.Join(roles, ", ")
	if req.Password != nil {
		msg += " and a new password"
	}
	return done(w, r, "/admin#users", msg)
}

// adminAddRole creates a role from the form: a box per capability.
func (c *Console) adminAddRole(w http.ResponseWriter, r *http.Request) error {
	if err := r.ParseForm(); err != nil {
		return errdefs.Invalidf("the role form: %v", err)
	}
	req := wire.RoleRequest{Name: strings.TrimSpace(r.PostFormValue("name")), Capabilities: append([]string{}, r.PostForm["capability"]...),
		Inherit: roleList(r.PostFormValue("inherit")), SearchIndexes: roleList(r.PostFormValue("indexes"))}
	if err := c.api.InvokeJSON(r, "POST", "/v1/roles", nil, nil, req, nil); err != nil {
		return err
	}
	return done(w, r, "/admin#roles", "role "+req.Name+" created")
}

// adminUpdateRole replaces a role's capabilities (a box each), inherited
// roles and search indexes.
func (c *Console) adminUpdateRole(w http.ResponseWriter, r *http.Request) error {
	if err := r.ParseForm(); err != nil {
		return errdefs.Invalidf("the role form: %v", err)
	}
	name := r.PathValue("name")
	req := wire.RoleRequest{Capabilities: append([]string{}, r.PostForm["capability"]...),
		Inherit: roleList(r.PostFormValue("inherit")), SearchIndexes: roleList(r.PostFormValue("indexes"))}
	if err := c.api.InvokeJSON(r, "PATCH", "/v1/roles/{name}", map[string]string{"name": name}, nil, req, nil); err != nil {
		return err
	}
	return done(w, r, "/admin#roles", "role "+name+" changed")
}

func (c *Console) adminDeleteRole(w http.ResponseWriter, r *http.Request) error {
	if err := confirmed(r, "deleting a role"); err != nil {
		return err
	}
	name := r.PathValue("name")
	if err := c.api.InvokeJSON(r, "DELETE", "/v1/roles/{name}", map[string]string{"name": name}, nil, nil, nil); err != nil {
		return err
	}
	return done(w, r, "/admin#roles", "role "+name+" deleted")
}

func (c *Console) adminAddApp(w http.ResponseWriter, r *http.Request) error {
	req := wire.AppRequest{Name: strings.TrimSpace(r.PostFormValue("name"))}
	// Empty fields get the API's defaults.
	if v := strings.TrimSpace(r.PostFormValue("read")); v != "" {
		l := roleList(v)
		req.Read = &l
	}
	if v := strings.TrimSpace(r.PostFormValue("write")); v != "" {
		l := roleList(v)
		req.Write = &l
	}
	if err := c.api.InvokeJSON(r, "POST", "/v1/apps", nil, nil, req, nil); err != nil {
		return err
	}
	return done(w, r, "/admin#apps", "app "+req.Name+" created")
}

// adminUpdateApp sets an app's read and write roles (its membership).
func (c *Console) adminUpdateApp(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	read, write := roleList(r.PostFormValue("read")), roleList(r.PostFormValue("write"))
	req := wire.AppRequest{Read: &read, Write: &write}
	if err := c.api.InvokeJSON(r, "PATCH", "/v1/apps/{name}", map[string]string{"name": name}, nil, req, nil); err != nil {
		return err
	}
	return done(w, r, "/admin#apps", "app "+name+" changed")
}

func (c *Console) adminDeleteApp(w http.ResponseWriter, r *http.Request) error {
	if err := confirmed(r, "deleting an app"); err != nil {
		return err
	}
	name := r.PathValue("name")
	if err := c.api.InvokeJSON(r, "DELETE", "/v1/apps/{name}", map[string]string{"name": name}, nil, nil, nil); err != nil {
		return err
	}
	return done(w, r, "/admin#apps", "app "+name+" deleted")
}

// adminAddToken creates an API token of one's own and shows its secret
// once, on the page that answers the form (never in an address).
func (c *Console) adminAddToken(w http.ResponseWriter, r *http.Request) error {
	req := wire.TokenRequest{Name: strings.TrimSpace(r.PostFormValue("name")), Expires: strings.TrimSpace(r.PostFormValue("expires"))}
	var nt wire.NewToken
	if err := c.api.InvokeJSON(r, "POST", "/v1/tokens", nil, nil, req, &nt); err != nil {
		return err
	}
	d, err := c.adminData(r)
	if err != nil {
		return err
	}
	d.NewAPIToken = &nt
	return c.render(w, r, http.StatusOK, "admin", "Administration", d)
}

func (c *Console) adminRevokeToken(w http.ResponseWriter, r *http.Request) error {
	if err := confirmed(r, "revoking a token"); err != nil {
		return err
	}
	id := r.PathValue("id")
	if err := c.api.InvokeJSON(r, "DELETE", "/v1/tokens/{id}", map[string]string{"id": id}, nil, nil, nil); err != nil {
		return err
	}
	return done(w, r, "/admin#tokens", "token "+id+" revoked")
}

// adminHECState disables or enables a HEC token.
func (c *Console) adminHECState(verb string) api.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		name := r.PathValue("name")
		if err := c.api.InvokeJSON(r, "POST", "/v1/hec/tokens/{name}/"+verb, map[string]string{"name": name}, nil, nil, nil); err != nil {
			return err
		}
		return done(w, r, "/admin#hec", "HEC token "+name+" "+verb+"d")
	}
}

func (c *Console) adminDeleteHECToken(w http.ResponseWriter, r *http.Request) error {
	if err := confirmed(r, "deleting a HEC token"); err != nil {
		return err
	}
	name := r.PathValue("name")
	if err := c.api.InvokeJSON(r, "DELETE", "/v1/hec/tokens/{name}", map[string]string{"name": name}, nil, nil, nil); err != nil {
		return err
	}
	return done(w, r, "/admin#hec", "HEC token "+name+" deleted")
}

func (c *Console) adminAddImage(w http.ResponseWriter, r *http.Request) error {
	req := wire.ImageAdd{Name: strings.TrimSpace(r.PostFormValue("name")), Ref: strings.TrimSpace(r.PostFormValue("ref")),
		Title: strings.TrimSpace(r.PostFormValue("title")), GPU: checked(r, "gpu"), Runtime: strings.TrimSpace(r.PostFormValue("runtime"))}
	if err := c.api.InvokeJSON(r, "POST", "/v1/images", nil, nil, req, nil); err != nil {
		return err
	}
	return done(w, r, "/admin#images", "image "+req.Name+" added")
}

// adminUpdateImage changes an entry's title and GPU flag, and its
// reference when the field is filled (the API re-pins it either way).
func (c *Console) adminUpdateImage(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	title, gpu := r.PostFormValue("title"), checked(r, "gpu")
	req := wire.ImageUpdate{Title: &title, GPU: &gpu}
	if ref := strings.TrimSpace(r.PostFormValue("ref")); ref != "" {
		req.Ref = &ref
	}
	if err := c.api.InvokeJSON(r, "PATCH", "/v1/images/{name}", map[string]string{"name": name}, nil, req, nil); err != nil {
		return err
	}
	return done(w, r, "/admin#images", "image "+name+" updated")
}

func (c *Console) adminRemoveImage(w http.ResponseWriter, r *http.Request) error {
	if err := confirmed(r, "removing an image"); err != nil {
		return err
	}
	name := r.PathValue("name")
	if err := c.api.InvokeJSON(r, "DELETE", "/v1/images/{name}", map[string]string{"name": name}, nil, nil, nil); err != nil {
		return err
	}
	return done(w, r, "/admin#images", "image "+name+" removed")
}

// adminAllowImage lets one CVE of an image pass the policy until a date
// (as that day begins, UTC) or a time (RFC 3339).
func (c *Console) adminAllowImage(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	until, err := formUntil(r.PostFormValue("until"))
	if err != nil {
		return err
	}
	req := wire.ImageException{CVE: strings.TrimSpace(r.PostFormValue("cve")), Until: until, Reason: r.PostFormValue("reason")}
	if err := c.api.InvokeJSON(r, "POST", "/v1/images/{name}/exceptions", map[string]string{"name": name}, nil, req, nil); err != nil {
		return err
	}
	return done(w, r, "/admin#images", req.CVE+" allowed for image "+name+" until "+until.Format(time.RFC3339))
}

// adminDisallowImage removes a CVE exception: the CVE refuses starts again.
func (c *Console) adminDisallowImage(w http.ResponseWriter, r *http.Request) error {
	if err := confirmed(r, "removing an exception"); err != nil {
		return err
	}
	name, cve := r.PathValue("name"), r.PathValue("cve")
	if err := c.api.InvokeJSON(r, "DELETE", "/v1/images/{name}/exceptions/{cve}", map[string]string{"name": name, "cve": cve}, nil, nil, nil); err != nil {
		return err
	}
	return done(w, r, "/admin#exceptions", "the exception for "+cve+" of image "+name+" removed: it refuses starts again")
}

// formUntil reads the date field of an exception as `images allow --until`
// does: a date ends the exception as that day begins (UTC).
func formUntil(v string) (time.Time, error) {
	v = strings.TrimSpace(v)
	if d, err := time.Parse("2006-01-02", v); err == nil {
		return d, nil
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	return time.Time{}, errdefs.Invalidf("until %q is not a date: give one as YYYY-MM-DD", v)
}

// adminSetPolicy sets the whole image policy from its form.
func (c *Console) adminSetPolicy(w http.ResponseWriter, r *http.Request) error {
	sev, scan, age := strings.TrimSpace(r.PostFormValue("max_severity")), checked(r, "require_scan"), strings.TrimSpace(r.PostFormValue("max_scan_age"))
	req := wire.ImagePolicyUpdate{MaxSeverity: &sev, RequireScan: &scan, MaxScanAge: &age}
	var p wire.ImagePolicy
	if err := c.api.InvokeJSON(r, "PATCH", "/v1/image-policy", nil, nil, req, &p); err != nil {
		return err
	}
	return done(w, r, "/admin#policy", "image policy: maximum severity "+orNone(p.MaxSeverity)+", scan required "+strconv.FormatBool(p.RequireScan))
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// adminSetObservability saves the observability settings. An empty token
// field keeps the token; the "remove the token" box removes it.
func (c *Console) adminSetObservability(w http.ResponseWriter, r *http.Request) error {
	enabled := checked(r, "enabled")
	endpoint, service, header := strings.TrimSpace(r.PostFormValue("endpoint")), strings.TrimSpace(r.PostFormValue("service_name")), strings.TrimSpace(r.PostFormValue("token_header"))
	req := wire.ObservabilityUpdate{Enabled: &enabled, Endpoint: &endpoint, ServiceName: &service, TokenHeader: &header}
	switch tok := r.PostFormValue("token"); {
	case checked(r, "remove_token"):
		empty := ""
		req.Token = &empty
	case tok != "":
		req.Token = &tok
	}
	if err := c.api.InvokeJSON(r, "PUT", "/v1/settings/observability", nil, nil, req, nil); err != nil {
		return err
	}
	return done(w, r, "/admin#observability", "observability settings saved")
}
