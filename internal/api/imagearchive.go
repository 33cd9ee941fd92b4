package api

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/dockyard/dockyard/internal/access"
	"github.com/dockyard/dockyard/internal/audit"
	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/images"
)

// ImageArchiveAPI moves catalogue images between air-gapped sites: images
// save streams an entry as an OCI image-layout archive with its
// signatures and newest scan report; images load verifies every digest of
// one, pushes it to a registry or loads it into the Docker Engine, and
// adds the entry. Both need configure_mltk_container and are audited.
type ImageArchiveAPI struct {
	*API
	Images *images.Catalogue
	// TempDir holds archives while they are built or unpacked (DATA/tmp/images,
	// emptied when the server starts).
	TempDir string
	// MaxBytes bounds an uploaded archive (images.max_archive_bytes).
	MaxBytes int64
}

// Routes lists the image archive routes.
func (i *ImageArchiveAPI) Routes() []Route {
	return []Route{
		{Method: "GET", Pattern: "/v1/images/{name}/archive", Cap: access.CapConfigureContainer, Action: "image.save", Handle: i.save},
		{Method: "POST", Pattern: "/v1/image-archives", Cap: access.CapConfigureContainer, Action: "image.load", Handle: i.load},
	}
}

func (i *ImageArchiveAPI) save(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	fw := &flushWriter{w: w}
	if f, ok := w.(http.Flusher); ok {
		fw.f = f
	}
	started := false
	hw := writerFunc(func(p []byte) (int, error) {
		if !started {
			started = true
			w.Header().Set("Content-Type", "application/x-tar")
			w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename=%q`, "image.tar"))
		}
		return fw.Write(p)
	})
	e, err := i.Images.SaveArchive(r.Context(), name, hw, i.TempDir)
	if err != nil {
		if fw.n == 0 {
			w.Header().Del("Content-Type")
			w.Header().Del("Content-Disposition")
			return err
		}
		i.Log.Error("image save failed midway", "image", name, "err", err, "request_id", RequestID(r.Context()))
		panic(http.ErrAbortHandler)
	}
	i.record(r, audit.Event{Action: "image.save", Object: "image:" + e.Name, Details: map[string]any{
		"digest": e.Digest, "ref": e.Ref, "bytes": fw.n}})
	return nil
}

type writerFunc func(p []byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

func (i *ImageArchiveAPI) load(w http.ResponseWriter, r *http.Request) error {
	p := access.FromContext(r.Context())
	q := r.URL.Query()
	// Unpacking, verifying and pushing or loading run before the
	// transaction; a refused archive leaves nothing behind.
	body := r.Body
	if i.MaxBytes > 0 {
		body = http.MaxBytesReader(w, r.Body, i.MaxBytes)
	}
	l, err := i.Images.Load(r.Context(), p.User, body, images.LoadRequest{Name: q.Get("name"), Push: q.Get("push")}, i.TempDir)
	if mbe := (*http.MaxBytesError)(nil); errors.As(err, &mbe) {
		return errdefs.Limitf("the image archive is larger than images.max_archive_bytes (%d bytes): raise that setting in the server's configuration to load it (%w)", i.MaxBytes, mbe)
	}
	if err != nil {
		return err
	}
	if err := i.changeIn(i.Images, r, func(r *http.Request) error {
		if err := i.Images.Create(r.Context(), l.Entry); err != nil {
			return err
		}
		if err := i.Images.SaveSignatures(r.Context(), l.Signatures); err != nil {
			return err
		}
		d := entryDetails(l.Entry)
		d["archive_digest"], d["signatures"], d["push"] = l.Digest, len(l.Signatures), q.Get("push")
		if l.Scan != nil {
			id, err := i.Images.StoreScan(r.Context(), *l.Scan)
			if err != nil {
				return err
			}
			d["scan_id"], d["scan_format"], d["scanned"] = id, l.Scan.Format, l.Scan.Scanned
		}
		return i.recordErr(r, audit.Event{Action: "image.load", Object: "image:" + l.Entry.Name, Details: d})
	}); err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, imageWire(images.Image{Entry: l.Entry}))
}
