package api

import (
	"net/http"

	"github.com/dockyard/dockyard/internal/access"
	"github.com/dockyard/dockyard/internal/audit"
	"github.com/dockyard/dockyard/internal/images"
	"github.com/dockyard/dockyard/internal/wire"
)

// ImagesAPI serves the image catalogue: listing and showing entries needs
// list_mltk_container; adding, re-pinning and removing them needs
// configure_mltk_container, and each is an audit event committed with the
// change.
type ImagesAPI struct {
	*API
	Images *images.Catalogue
}

// Routes lists the image routes.
func (i *ImagesAPI) Routes() []Route {
	return append([]Route{
		{Method: "GET", Pattern: "/v1/images", Cap: access.CapListContainer, Action: "image.list", Handle: i.list},
		{Method: "GET", Pattern: "/v1/images/{name}", Cap: access.CapListContainer, Action: "image.show", Handle: i.show},
		{Method: "POST", Pattern: "/v1/images", Cap: access.CapConfigureContainer, Action: "image.add", Handle: i.add},
		{Method: "PATCH", Pattern: "/v1/images/{name}", Cap: access.CapConfigureContainer, Action: "image.update", Handle: i.update},
		{Method: "DELETE", Pattern: "/v1/images/{name}", Cap: access.CapConfigureContainer, Action: "image.remove", Handle: i.remove},
	}, append(i.policyRoutes(), i.signingRoutes()...)...)
}

func imageWire(im images.Image) wire.Image {
	e := im.Entry
	return wire.Image{Name: e.Name, Runtime: e.Runtime, Ref: e.Ref, Digest: e.Digest, RunRef: e.RunRef, Source: e.Source,
		Title: e.Title, GPU: e.GPU, Cert: e.Cert, Builtin: im.Builtin, Default: im.Default, Containers: im.Containers,
		CreatedBy: e.CreatedBy, Created: e.Created, UpdatedBy: e.UpdatedBy, Updated: e.Updated}
}

// entryDetails is what an audit event says of an entry.
func entryDetails(e images.Entry) map[string]any {
	return map[string]any{"ref": e.Ref, "digest": e.Digest, "run_ref": e.RunRef, "source": e.Source,
		"runtime": e.Runtime, "gpu": e.GPU, "title": e.Title, "cert": e.Cert}
}

func (i *ImagesAPI) list(w http.ResponseWriter, r *http.Request) error {
	list, err := i.Images.List(r.Context())
	if err != nil {
		return err
	}
	out := make([]wire.Image, 0, len(list))
	for _, im := range list {
		out = append(out, imageWire(im))
	}
	return writeJSON(w, http.StatusOK, out)
}

func (i *ImagesAPI) show(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	list, err := i.Images.List(r.Context())
	if err != nil {
		return err
	}
	for _, im := range list {
		if im.Name == name {
			out := imageWire(im)
			if out.Policy, err = i.Images.Decision(r.Context(), name); err != nil {
				return err
			}
			if !im.Builtin {
				if out.Signatures, err = i.Images.Signatures(r.Context(), im.Entry); err != nil {
					return err
				}
				exs, err := i.Images.Exceptions(r.Context(), name)
				if err != nil {
					return err
				}
				for _, x := range exs {
					if x.Until.After(i.Images.Now()) {
						out.Exceptions++
					}
				}
			}
			return writeJSON(w, http.StatusOK, out)
		}
	}
	_, err = i.Images.Get(r.Context(), name)
	return err
}

func (i *ImagesAPI) add(w http.ResponseWriter, r *http.Request) error {
	var req wire.ImageAdd
	if err := decode(w, r, &req); err != nil {
		return err
	}
	p := access.FromContext(r.Context())
	// Resolving asks a registry or the engine: done before the transaction.
	e, err := i.Images.NewEntry(r.Context(), p.User, images.AddRequest{Name: req.Name, Ref: req.Ref, Title: req.Title, GPU: req.GPU, Runtime: req.Runtime, Cert: req.Cert})
	if err != nil {
		return err
	}
	sigs, err := i.Images.FetchSignatures(r.Context(), p.User, e)
	if err != nil {
		return err
	}
	scan := i.runScanner(r, p.User, e)
	if err := i.changeIn(i.Images, r, func(r *http.Request) error {
		if err := i.Images.Create(r.Context(), e); err != nil {
			return err
		}
		if err := i.Images.SaveSignatures(r.Context(), sigs); err != nil {
			return err
		}
		d := entryDetails(e)
		d["signatures"] = len(sigs)
		if err := i.recordErr(r, audit.Event{Action: "image.add", Object: "image:" + e.Name, Details: d}); err != nil {
			return err
		}
		return i.storeScan(r, &scan)
	}); err != nil {
		return err
	}
	i.auditScanFailure(r, e, scan)
	out := imageWire(images.Image{Entry: e})
	out.Scan = scan.summary()
	return writeJSON(w, http.StatusCreated, out)
}

func (i *ImagesAPI) update(w http.ResponseWriter, r *http.Request) error {
	var req wire.ImageUpdate
	if err := decode(w, r, &req); err != nil {
		return err
	}
	p := access.FromContext(r.Context())
	before, after, err := i.Images.Repin(r.Context(), p.User, r.PathValue("name"), images.UpdateRequest{Ref: req.Ref, Title: req.Title, GPU: req.GPU, Cert: req.Cert})
	if err != nil {
		return err
	}
	sigs, err := i.Images.FetchSignatures(r.Context(), p.User, after)
	if err != nil {
		return err
	}
	scan := i.runScanner(r, p.User, after)
	if err := i.changeIn(i.Images, r, func(r *http.Request) error {
		if err := i.Images.Save(r.Context(), after); err != nil {
			return err
		}
		if err := i.Images.SaveSignatures(r.Context(), sigs); err != nil {
			return err
		}
		d := entryDetails(after)
		d["signatures"] = len(sigs)
		d["before"] = entryDetails(before)
		d["changed"] = before.Digest != after.Digest
		if err := i.recordErr(r, audit.Event{Action: "image.update", Object: "image:" + after.Name, Details: d}); err != nil {
			return err
		}
		return i.storeScan(r, &scan)
	}); err != nil {
		return err
	}
	i.auditScanFailure(r, after, scan)
	out := imageWire(images.Image{Entry: after})
	out.Scan = scan.summary()
	return writeJSON(w, http.StatusOK, out)
}

func (i *ImagesAPI) remove(w http.ResponseWriter, r *http.Request) error {
	var e images.Entry
	if err := i.changeIn(i.Images, r, func(r *http.Request) error {
		var err error
		if e, err = i.Images.Remove(r.Context(), r.PathValue("name")); err != nil {
			return err
		}
		return i.recordErr(r, audit.Event{Action: "image.remove", Object: "image:" + e.Name, Details: entryDetails(e)})
	}); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]string{"removed": e.Name})
}
