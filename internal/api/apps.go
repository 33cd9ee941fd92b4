package api

import (
	"net/http"

	"github.com/dockyard/dockyard/internal/access"
	"github.com/dockyard/dockyard/internal/audit"
	"github.com/dockyard/dockyard/internal/wire"
)

// appRoutes serve apps: anyone lists and shows the apps they may read (an
// app they may not read is not found); creating, changing and deleting
// apps needs access.CapManageApps.
func (a *API) appRoutes() []Route {
	return []Route{
		{Method: "GET", Pattern: "/v1/apps", Cap: Authenticated, Action: "app.list", Handle: a.listApps},
		{Method: "GET", Pattern: "/v1/apps/{name}", Cap: Authenticated, Action: "app.show", Handle: a.showApp},
		{Method: "POST", Pattern: "/v1/apps", Cap: access.CapManageApps, Action: "app.create", Handle: a.auditDenials("app.create", a.createApp)},
		{Method: "PATCH", Pattern: "/v1/apps/{name}", Cap: access.CapManageApps, Action: "app.update", Handle: a.auditDenials("app.update", a.updateApp)},
		{Method: "DELETE", Pattern: "/v1/apps/{name}", Cap: access.CapManageApps, Action: "app.delete", Handle: a.auditDenials("app.delete", a.deleteApp)},
	}
}

func appWire(p *access.Principal, x access.App) wire.App {
	return wire.App{Name: x.Name, Read: nonNil(x.Read), Write: nonNil(x.Write), CreatedBy: x.CreatedBy,
		Created: x.Created, Updated: x.Updated, CanWrite: p.CanWriteApp(x.Name) || p.Can(access.CapAdminAllObjects)}
}

func (a *API) listApps(w http.ResponseWriter, r *http.Request) error {
	p := access.FromContext(r.Context())
	as, err := a.Access.ListApps(r.Context(), p)
	if err != nil {
		return err
	}
	out := make([]wire.App, 0, len(as))
	for _, x := range as {
		out = append(out, appWire(p, x))
	}
	return writeJSON(w, http.StatusOK, out)
}

func (a *API) showApp(w http.ResponseWriter, r *http.Request) error {
	p := access.FromContext(r.Context())
	x, err := a.Access.GetApp(r.Context(), p, r.PathValue("name"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, appWire(p, x))
}

func derefList(l *[]string) []string {
	if l == nil {
		return nil
	}
	if *l == nil {
		return []string{}
	}
	return *l
}

func (a *API) createApp(w http.ResponseWriter, r *http.Request) error {
	var req wire.AppRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	p := access.FromContext(r.Context())
	var x access.App
	if err := a.change(r, func(r *http.Request) error {
		var err error
		if x, err = a.Access.CreateApp(r.Context(), req.Name, derefList(req.Read), derefList(req.Write), p.User); err != nil {
			return err
		}
		return a.recordErr(r, audit.Event{Action: "app.create", Object: "app:" + x.Name, Details: map[string]any{"read": x.Read, "write": x.Write}})
	}); err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, appWire(p, x))
}

func (a *API) updateApp(w http.ResponseWriter, r *http.Request) error {
	var req wire.AppRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	p := access.FromContext(r.Context())
	var after access.App
	if err := a.change(r, func(r *http.Request) error {
		before, upd, err := a.Access.UpdateApp(r.Context(), p, r.PathValue("name"), access.AppUpdate{Read: derefList(req.Read), Write: derefList(req.Write)})
		if err != nil {
			return err
		}
		after = upd
		return a.recordErr(r, audit.Event{Action: "app.update", Object: "app:" + after.Name, Details: map[string]any{
			"before": map[string]any{"read": before.Read, "write": before.Write}, "read": after.Read, "write": after.Write}})
	}); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, appWire(p, after))
}

func (a *API) deleteApp(w http.ResponseWriter, r *http.Request) error {
	var x access.App
	if err := a.change(r, func(r *http.Request) error {
		var err error
		if x, err = a.Access.DeleteApp(r.Context(), access.FromContext(r.Context()), r.PathValue("name")); err != nil {
			return err
		}
		return a.recordErr(r, audit.Event{Action: "app.delete", Object: "app:" + x.Name, Details: map[string]any{"read": x.Read, "write": x.Write}})
	}); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]string{"deleted": x.Name})
}
