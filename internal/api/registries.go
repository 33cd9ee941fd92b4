package api

import (
	"net/http"

	"github.com/dockyard/dockyard/internal/access"
	"github.com/dockyard/dockyard/internal/audit"
	"github.com/dockyard/dockyard/internal/images"
	"github.com/dockyard/dockyard/internal/wire"
)

// RegistriesAPI serves the private registries the image catalogue reads
// and the Docker Engine pulls from; every route needs
// configure_mltk_container, and no answer or audit event carries a
// password.
type RegistriesAPI struct {
	*API
	Registries *images.Registries
}

// Routes lists the registry routes.
func (g *RegistriesAPI) Routes() []Route {
	return []Route{
		{Method: "GET", Pattern: "/v1/registries", Cap: access.CapConfigureContainer, Action: "registry.list", Handle: g.list},
		{Method: "POST", Pattern: "/v1/registries", Cap: access.CapConfigureContainer, Action: "registry.add", Handle: g.add},
		{Method: "POST", Pattern: "/v1/registries/{host}/login", Cap: access.CapConfigureContainer, Action: "registry.login", Handle: g.login},
		{Method: "DELETE", Pattern: "/v1/registries/{host}", Cap: access.CapConfigureContainer, Action: "registry.remove", Handle: g.remove},
	}
}

func registryWire(r images.RegistryInfo) wire.Registry {
	return wire.Registry{Host: r.Host, CA: r.HasCA, Username: r.Username, CreatedBy: r.CreatedBy, Created: r.Created,
		UpdatedBy: r.UpdatedBy, Updated: r.Updated}
}

func (g *RegistriesAPI) list(w http.ResponseWriter, r *http.Request) error {
	list, err := g.Registries.List(r.Context())
	if err != nil {
		return err
	}
	out := make([]wire.Registry, 0, len(list))
	for _, x := range list {
		out = append(out, registryWire(x))
	}
	return writeJSON(w, http.StatusOK, out)
}

// change runs do and records its audit event (details of the registry it
// returns) in one transaction, and answers the registry with status.
func (g *RegistriesAPI) change(w http.ResponseWriter, r *http.Request, action string, status int,
	do func(r *http.Request) (images.RegistryRecord, error), details func(images.RegistryRecord) map[string]any) error {
	var rec images.RegistryRecord
	if err := g.changeIn(g.Registries, r, func(r *http.Request) error {
		var err error
		if rec, err = do(r); err != nil {
			return err
		}
		return g.recordErr(r, audit.Event{Action: action, Object: "registry:" + rec.Host, Details: details(rec)})
	}); err != nil {
		return err
	}
	return writeJSON(w, status, registryWire(images.Info(rec)))
}

func (g *RegistriesAPI) add(w http.ResponseWriter, r *http.Request) error {
	var req wire.RegistryAdd
	if err := decode(w, r, &req); err != nil {
		return err
	}
	p := access.FromContext(r.Context())
	return g.change(w, r, "registry.add", http.StatusCreated,
		func(r *http.Request) (images.RegistryRecord, error) {
			return g.Registries.Add(r.Context(), p.User, req.Host, req.CAPEM)
		},
		func(rec images.RegistryRecord) map[string]any { return map[string]any{"ca": rec.CAPEM != ""} })
}

func (g *RegistriesAPI) login(w http.ResponseWriter, r *http.Request) error {
	var req wire.RegistryLogin
	if err := decode(w, r, &req); err != nil {
		return err
	}
	p := access.FromContext(r.Context())
	return g.change(w, r, "registry.login", http.StatusOK,
		func(r *http.Request) (images.RegistryRecord, error) {
			return g.Registries.Login(r.Context(), p.User, r.PathValue("host"), req.Username, req.Password)
		},
		func(rec images.RegistryRecord) map[string]any { return map[string]any{"username": rec.Username} })
}

func (g *RegistriesAPI) remove(w http.ResponseWriter, r *http.Request) error {
	var rec images.RegistryRecord
	if err := g.changeIn(g.Registries, r, func(r *http.Request) error {
		var err error
		if rec, err = g.Registries.Remove(r.Context(), r.PathValue("host")); err != nil {
			return err
		}
		return g.recordErr(r, audit.Event{Action: "registry.remove", Object: "registry:" + rec.Host, Details: map[string]any{"username": rec.Username}})
	}); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]string{"removed": rec.Host})
}
