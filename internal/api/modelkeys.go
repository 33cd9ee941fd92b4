package api

import (
	"net/http"

	"github.com/dockyard/dockyard/internal/access"
	"github.com/dockyard/dockyard/internal/audit"
	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/models"
	"github.com/dockyard/dockyard/internal/signing"
	"github.com/dockyard/dockyard/internal/wire"
)

// ModelKeysAPI serves the keys of signed model archives (bundles): this
// server's public key, which other sites trust, and the keys of other
// sites this server trusts (changing them needs admin_all_objects and is
// audited).
type ModelKeysAPI struct {
	*API
	Registry *models.Registry
	Keys     *signing.Keys
}

// Routes lists the model key routes.
func (m *ModelKeysAPI) Routes() []Route {
	return []Route{
		{Method: "GET", Pattern: "/v1/model-keys/server", Cap: Authenticated, Action: "model.key.show", Handle: m.serverKey},
		{Method: "GET", Pattern: "/v1/model-keys", Cap: Authenticated, Action: "model.key.list", Handle: m.list},
		{Method: "POST", Pattern: "/v1/model-keys", Cap: access.CapAdminAllObjects, Action: "model.key.trust", Handle: m.trust},
		{Method: "DELETE", Pattern: "/v1/model-keys/{name}", Cap: access.CapAdminAllObjects, Action: "model.key.remove", Handle: m.remove},
	}
}

func (m *ModelKeysAPI) serverKey(w http.ResponseWriter, r *http.Request) error {
	id, pem, err := m.Registry.BundleKeyID()
	if err != nil {
		return err
	}
	if id == "" {
		return errdefs.NotFound("this server does not sign its model exports")
	}
	return writeJSON(w, http.StatusOK, wire.SigningKey{Name: "this server", Fingerprint: id, PEM: pem})
}

func (m *ModelKeysAPI) list(w http.ResponseWriter, r *http.Request) error {
	ks, err := m.Keys.List(r.Context())
	if err != nil {
		return err
	}
	out := make([]wire.SigningKey, 0, len(ks))
	for _, k := range ks {
		out = append(out, KeyWire(k))
	}
	return writeJSON(w, http.StatusOK, out)
}

func (m *ModelKeysAPI) trust(w http.ResponseWriter, r *http.Request) error {
	var req wire.SigningKeyAdd
	if err := decode(w, r, &req); err != nil {
		return err
	}
	p := access.FromContext(r.Context())
	var k signing.Key
	if err := m.changeIn(m.Keys, r, func(r *http.Request) error {
		var err error
		if k, err = m.Keys.Add(r.Context(), p.User, req.Name, []byte(req.PEM)); err != nil {
			return err
		}
		return m.recordErr(r, audit.Event{Action: "model.key.trust", Object: "model-key:" + k.Name, Details: map[string]any{"fingerprint": k.Fingerprint}})
	}); err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, KeyWire(k))
}

func (m *ModelKeysAPI) remove(w http.ResponseWriter, r *http.Request) error {
	var k signing.Key
	if err := m.changeIn(m.Keys, r, func(r *http.Request) error {
		var err error
		if k, err = m.Keys.Remove(r.Context(), r.PathValue("name")); err != nil {
			return err
		}
		return m.recordErr(r, audit.Event{Action: "model.key.remove", Object: "model-key:" + k.Name, Details: map[string]any{"fingerprint": k.Fingerprint}})
	}); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]string{"removed": k.Name})
}
