package api

import (
	"net/http"

	"github.com/dockyard/dockyard/internal/access"
	"github.com/dockyard/dockyard/internal/audit"
	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/images"
	"github.com/dockyard/dockyard/internal/signing"
	"github.com/dockyard/dockyard/internal/wire"
)

// signingRoutes serve image signatures: the public keys a start verifies
// them with, and signatures uploaded by `dockyard images sign` (each
// change an audit event committed with it).
func (i *ImagesAPI) signingRoutes() []Route {
	return []Route{
		{Method: "GET", Pattern: "/v1/image-keys", Cap: access.CapListContainer, Action: "image.key.list", Handle: i.listKeys},
		{Method: "POST", Pattern: "/v1/image-keys", Cap: access.CapConfigureContainer, Action: "image.key.add", Handle: i.addKey},
		{Method: "DELETE", Pattern: "/v1/image-keys/{name}", Cap: access.CapConfigureContainer, Action: "image.key.remove", Handle: i.removeKey},
		{Method: "POST", Pattern: "/v1/images/{name}/signatures", Cap: access.CapConfigureContainer, Action: "image.sign", Handle: i.addSignature},
	}
}

// KeyWire is what the API shows of a trusted key.
func KeyWire(k signing.Key) wire.SigningKey {
	return wire.SigningKey{Name: k.Name, Fingerprint: k.Fingerprint, PEM: k.PEM, CreatedBy: k.CreatedBy, Created: k.Created}
}

func (i *ImagesAPI) listKeys(w http.ResponseWriter, r *http.Request) error {
	if i.Images.Keys() == nil {
		return errdefs.Unavailable("image keys have no store on this server")
	}
	ks, err := i.Images.Keys().List(r.Context())
	if err != nil {
		return err
	}
	out := make([]wire.SigningKey, 0, len(ks))
	for _, k := range ks {
		out = append(out, KeyWire(k))
	}
	return writeJSON(w, http.StatusOK, out)
}

func (i *ImagesAPI) addKey(w http.ResponseWriter, r *http.Request) error {
	var req wire.SigningKeyAdd
	if err := decode(w, r, &req); err != nil {
		return err
	}
	keys := i.Images.Keys()
	if keys == nil {
		return errdefs.Unavailable("image keys have no store on this server")
	}
	p := access.FromContext(r.Context())
	var k signing.Key
	if err := i.changeIn(keys, r, func(r *http.Request) error {
		var err error
		if k, err = keys.Add(r.Context(), p.User, req.Name, []byte(req.PEM)); err != nil {
			return err
		}
		return i.recordErr(r, audit.Event{Action: "image.key.add", Object: "image-key:" + k.Name, Details: map[string]any{"fingerprint": k.Fingerprint}})
	}); err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, KeyWire(k))
}

func (i *ImagesAPI) removeKey(w http.ResponseWriter, r *http.Request) error {
	keys := i.Images.Keys()
	if keys == nil {
		return errdefs.Unavailable("image keys have no store on this server")
	}
	var k signing.Key
	if err := i.changeIn(keys, r, func(r *http.Request) error {
		var err error
		if k, err = keys.Remove(r.Context(), r.PathValue("name")); err != nil {
			return err
		}
		return i.recordErr(r, audit.Event{Action: "image.key.remove", Object: "image-key:" + k.Name, Details: map[string]any{"fingerprint": k.Fingerprint}})
	}); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]string{"removed": k.Name})
}

func (i *ImagesAPI) addSignature(w http.ResponseWriter, r *http.Request) error {
	var req wire.ImageSignatureAdd
	if err := decode(w, r, &req); err != nil {
		return err
	}
	p := access.FromContext(r.Context())
	var s images.Signature
	if err := i.changeIn(i.Images, r, func(r *http.Request) error {
		var err error
		if s, err = i.Images.NewSignature(r.Context(), p.User, r.PathValue("name"), []byte(req.Payload), req.Signature); err != nil {
			return err
		}
		if err := i.Images.SaveSignatures(r.Context(), []images.Signature{s}); err != nil {
			return err
		}
		return i.recordErr(r, audit.Event{Action: "image.sign", Object: "image:" + s.Image, Details: map[string]any{"digest": s.Digest, "source": s.Source}})
	}); err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, wire.ImageSignature{Image: s.Image, Digest: s.Digest, Source: s.Source, AddedBy: s.AddedBy, Added: s.Added})
}
