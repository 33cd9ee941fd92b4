package api

import (
	"net/http"

	"github.com/dockyard/dockyard/internal/access"
	"github.com/dockyard/dockyard/internal/audit"
	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/signing"
	"github.com/dockyard/dockyard/internal/wire"
)

// keySet serves one set of trusted public keys: list, add and remove, each
// change committed with its audit event (Action addAction or removeAction,
// Object objPrefix+NAME, the key's fingerprint in the details).
type keySet struct {
	*API
	keys                    func() *signing.Keys // nil: the set has no store on this server
	what                    string               // "image keys"
	addAction, removeAction string
	objPrefix               string
}

// KeyWire is what the API shows of a trusted key.
func KeyWire(k signing.Key) wire.SigningKey {
	return wire.SigningKey{Name: k.Name, Fingerprint: k.Fingerprint, PEM: k.PEM, CreatedBy: k.CreatedBy, Created: k.Created}
}

func (s keySet) set() (*signing.Keys, error) {
	keys := s.keys()
	if keys == nil {
		return nil, errdefs.Unavailablef("%s have no store on this server", s.what)
	}
	return keys, nil
}

func (s keySet) list(w http.ResponseWriter, r *http.Request) error {
	keys, err := s.set()
	if err != nil {
		return err
	}
	ks, err := keys.List(r.Context())
	if err != nil {
		return err
	}
	out := make([]wire.SigningKey, 0, len(ks))
	for _, k := range ks {
		out = append(out, KeyWire(k))
	}
	return writeJSON(w, http.StatusOK, out)
}

func (s keySet) add(w http.ResponseWriter, r *http.Request) error {
	var req wire.SigningKeyAdd
	if err := decode(w, r, &req); err != nil {
		return err
	}
	keys, err := s.set()
	if err != nil {
		return err
	}
	p := access.FromContext(r.Context())
	var k signing.Key
	if err := s.changeIn(keys, r, func(r *http.Request) error {
		var err error
		if k, err = keys.Add(r.Context(), p.User, req.Name, []byte(req.PEM)); err != nil {
			return err
		}
		return s.recordErr(r, audit.Event{Action: s.addAction, Object: s.objPrefix + k.Name, Details: map[string]any{"fingerprint": k.Fingerprint}})
	}); err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, KeyWire(k))
}

func (s keySet) remove(w http.ResponseWriter, r *http.Request) error {
	keys, err := s.set()
	if err != nil {
		return err
	}
	var k signing.Key
	if err := s.changeIn(keys, r, func(r *http.Request) error {
		var err error
		if k, err = keys.Remove(r.Context(), r.PathValue("name")); err != nil {
			return err
		}
		return s.recordErr(r, audit.Event{Action: s.removeAction, Object: s.objPrefix + k.Name, Details: map[string]any{"fingerprint": k.Fingerprint}})
	}); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]string{"removed": k.Name})
}
