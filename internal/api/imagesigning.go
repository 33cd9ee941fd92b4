package api

import (
	"net/http"

	"github.com/dockyard/dockyard/internal/access"
	"github.com/dockyard/dockyard/internal/audit"
	"github.com/dockyard/dockyard/internal/images"
	"github.com/dockyard/dockyard/internal/wire"
)

// signingRoutes serve image signatures: the public keys a start verifies
// them with, and signatures uploaded by `dockyard images sign` (each
// change an audit event committed with it).
func (i *ImagesAPI) signingRoutes() []Route {
	keys := keySet{API: i.API, keys: i.Images.Keys, what: "image keys",
		addAction: "image.key.add", removeAction: "image.key.remove", objPrefix: "image-key:"}
	return []Route{
		{Method: "GET", Pattern: "/v1/image-keys", Cap: access.CapListContainer, Action: "image.key.list", Handle: keys.list},
		{Method: "POST", Pattern: "/v1/image-keys", Cap: access.CapConfigureContainer, Action: "image.key.add", Handle: keys.add},
		{Method: "DELETE", Pattern: "/v1/image-keys/{name}", Cap: access.CapConfigureContainer, Action: "image.key.remove", Handle: keys.remove},
		{Method: "POST", Pattern: "/v1/images/{name}/signatures", Cap: access.CapConfigureContainer, Action: "image.sign", Handle: i.addSignature},
	}
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
