package api

import (
	"net/http"

	"github.com/dockyard/dockyard/internal/access"
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
	keys := keySet{API: m.API, keys: func() *signing.Keys { return m.Keys }, what: "model keys",
		addAction: "model.key.trust", removeAction: "model.key.remove", objPrefix: "model-key:"}
	return []Route{
		{Method: "GET", Pattern: "/v1/model-keys/server", Cap: Authenticated, Action: "model.key.show", Handle: m.serverKey},
		{Method: "GET", Pattern: "/v1/model-keys", Cap: Authenticated, Action: "model.key.list", Handle: keys.list},
		{Method: "POST", Pattern: "/v1/model-keys", Cap: access.CapAdminAllObjects, Action: "model.key.trust", Handle: keys.add},
		{Method: "DELETE", Pattern: "/v1/model-keys/{name}", Cap: access.CapAdminAllObjects, Action: "model.key.remove", Handle: keys.remove},
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
