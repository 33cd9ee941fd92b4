package models

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"

	"github.com/dockyard/dockyard/internal/access"
	"github.com/dockyard/dockyard/internal/audit"
	"github.com/dockyard/dockyard/internal/blob"
	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/knowledge"
	"github.com/dockyard/dockyard/internal/store"
	"github.com/dockyard/dockyard/internal/transfer"
)

// File is one file of a version (transfer.File). To register it, give its
// bytes through Reader or Open (with Digest, when known, to verify them),
// or give only Digest and Size of a blob that is already stored.
type File = transfer.File

// Manifest lists a version's files sorted by path; the digest of its
// canonical JSON is the version's digest (transfer.Manifest).
type Manifest = transfer.Manifest

// VersionInput is what a new version is made of.
type VersionInput struct {
	Files   []File
	Algo    string
	Params  map[string]string
	FitInfo map[string]any
	Lineage Lineage
	Reason  string // recorded with the move of "current"; default "new version"
}

// RegisterVersion stores the files of a new version, verifying each against
// its digest, and adds the version to the model ref names, creating the
// model when it does not exist ("NAME": private to the caller in the current
// app; "app:NAME": shared at app level). The version gets the next number,
// "current" moves to it and retention runs. When any file fails, nothing is
// registered.
func (r *Registry) RegisterVersion(ctx context.Context, ref Ref, in VersionInput) (Version, error) {
	p, err := caller(ctx)
	if err != nil {
		return Version{}, err
	}
	if err := ValidateName(ref.Name); err != nil {
		return Version{}, err
	}
	m, exists, err := r.target(ctx, p, ref)
	if err != nil {
		return Version{}, err
	}
	man, size, err := r.storeFiles(ctx, in.Files)
	if err != nil {
		return Version{}, fmt.Errorf("model %s: %w", ref.Base(), err)
	}
	body, digest, err := man.Canonical()
	if err != nil {
		return Version{}, err
	}
	if err := r.putVerified(ctx, digest, body); err != nil {
		return Version{}, fmt.Errorf("model %s: store manifest: %w", ref.Base(), err)
	}
	// The model (when new), its version, the alias move and their audit
	// events commit together or not at all: no model is ever without a
	// version, and no change without its event.
	v, err := store.Run(ctx, r.st, func(ctx context.Context) (Version, error) {
		if !exists {
			// Another request may have created it since target looked.
			if m, exists, err = r.target(ctx, p, ref); err != nil {
				return Version{}, err
			}
		}
		if !exists {
			if m, err = r.create(ctx, p, ref); err != nil {
				return Version{}, err
			}
		}
		sv, err := encodeVersion(p, in, digest, len(man.Files), size)
		if err != nil {
			return Version{}, err
		}
		sv.Created = r.now()
		reason := in.Reason
		if reason == "" {
			reason = "new version"
		}
		sv, mv, err := r.st.AddModelVersion(ctx, m.id, store.NewVersion{Version: sv, Alias: AliasCurrent, Reason: reason})
		if err != nil {
			return Version{}, fmt.Errorf("model %s: add version: %w", ref.Base(), err)
		}
		v, err := toVersion(m, sv)
		if err != nil {
			return Version{}, err
		}
		d := map[string]any{
			"version": v.Version, "digest": string(v.Digest), "algo": v.Algo, "files": v.Files, "size": v.Size,
			"current_from": mv.From, "current_to": mv.To,
		}
		if in.Lineage.SignedBy != "" {
			d["signed_by"] = in.Lineage.SignedBy
		}
		r.record(ctx, p, "model.version.create", m, audit.ResultSuccess, "", d)
		return v, nil
	})
	if err != nil {
		return Version{}, err
	}
	r.retain(ctx, p, m)
	return v, nil
}

func (r *Registry) putVerified(ctx context.Context, d blob.Digest, b []byte) error {
	_, err := r.blobs.PutVerified(ctx, d, bytes.NewReader(b))
	return err
}

// create makes the model ref names, owned by the caller in the current app.
// When another request created it first, that model is used instead.
func (r *Registry) create(ctx context.Context, p *access.Principal, ref Ref) (Model, error) {
	if ref.Owner != "" && ref.Owner != p.User {
		// A model is created for its caller; making one in another
		// user's name would hand them an object they never made.
		return Model{}, errdefs.NotFoundf("%w; a model is created by its owner, so there is no model of %s to add a version to", r.ko.NotFound(ref.Base()), ref.Owner)
	}
	sharing := access.SharingUser
	if ref.AppShared {
		sharing = access.SharingApp
	}
	now := r.now()
	rec := store.Model{Name: ref.Name, App: appOf(p), Owner: p.User, Sharing: string(sharing), Created: now, Updated: now}
	if err := r.ko.AuthorizeSharing(ctx, p, "model.create", storeObject(rec), sharing); err != nil {
		return Model{}, err
	}
	cands, err := r.st.FindModels(ctx, ref.Name)
	if err != nil {
		return Model{}, fmt.Errorf("model %s: %w", ref.Base(), err)
	}
	err = knowledge.Collide(r.ko, p, storeObject(rec), sharing, cands, storeObject)
	var sm store.Model
	if err == nil {
		sm, err = r.st.CreateModel(ctx, rec)
	}
	if errdefs.IsConflict(err) {
		// Another request made the model first (or it is shared and
		// visible): add to it when the caller may write it.
		m, exists, terr := r.target(ctx, p, ref)
		if terr != nil {
			return Model{}, terr
		}
		if !exists {
			return Model{}, err
		}
		return m, nil
	}
	if err != nil {
		return Model{}, fmt.Errorf("model %s: create: %w", ref.Base(), err)
	}
	m := toModel(p, sm)
	r.record(ctx, p, "model.create", m, audit.ResultSuccess, "", map[string]any{"sharing": string(sharing)})
	return m, nil
}

// storeFiles stores (or checks) every file and returns the manifest and the
// total size.
func (r *Registry) storeFiles(ctx context.Context, files []File) (Manifest, int64, error) {
	if len(files) == 0 {
		return Manifest{}, 0, errdefs.Invalid("a version needs at least one file")
	}
	seen := map[string]bool{}
	var man Manifest
	var total int64
	for _, f := range files {
		if err := transfer.ValidatePath(f.Path); err != nil {
			return Manifest{}, 0, err
		}
		if seen[f.Path] {
			return Manifest{}, 0, errdefs.Invalidf("file %q is listed twice", f.Path)
		}
		seen[f.Path] = true
		got, err := r.storeFile(ctx, f)
		if err != nil {
			return Manifest{}, 0, err
		}
		man.Files = append(man.Files, got)
		total += got.Size
	}
	sort.Slice(man.Files, func(i, j int) bool { return man.Files[i].Path < man.Files[j].Path })
	return man, total, nil
}

func (r *Registry) storeFile(ctx context.Context, f File) (File, error) {
	if f.Digest != "" {
		if _, err := blob.ParseDigest(string(f.Digest)); err != nil {
			return File{}, fmt.Errorf("file %q: %w", f.Path, err)
		}
	}
	rd := f.Reader
	if f.Open != nil {
		rc, err := f.Open()
		if err != nil {
			return File{}, fmt.Errorf("file %q: %w", f.Path, err)
		}
		defer rc.Close()
		rd = rc
	}
	out := File{Path: f.Path, Digest: f.Digest}
	var err error
	switch {
	case rd == nil && f.Digest == "":
		return File{}, errdefs.Invalidf("file %q has neither content nor a digest", f.Path)
	case rd == nil:
		out.Size, err = r.blobs.Stat(ctx, f.Digest)
		if errdefs.IsNotFound(err) {
			return File{}, errdefs.Invalidf("file %q: blob %s is not stored; upload it first", f.Path, f.Digest)
		}
	case f.Digest != "":
		out.Size, err = r.blobs.PutVerified(ctx, f.Digest, rd)
	default:
		out.Digest, out.Size, err = r.blobs.Put(ctx, rd)
	}
	if errdefs.IsInvalid(err) {
		return File{}, errdefs.Invalidf("file %q does not match its digest %s: the upload is incomplete or changed; send it again", f.Path, f.Digest)
	}
	if err != nil {
		return File{}, fmt.Errorf("file %q: %w", f.Path, err)
	}
	if f.Size > 0 && out.Size != f.Size {
		return File{}, errdefs.Invalidf("file %q has %d bytes, want %d: the upload is incomplete; send it again", f.Path, out.Size, f.Size)
	}
	return out, nil
}

func encodeVersion(p *access.Principal, in VersionInput, d blob.Digest, files int, size int64) (store.ModelVersion, error) {
	sv := store.ModelVersion{Digest: string(d), Creator: p.User, Algo: in.Algo, Files: files, Size: size}
	for _, f := range []struct {
		v    any
		into *string
	}{{in.Params, &sv.Params}, {in.FitInfo, &sv.FitInfo}, {in.Lineage, &sv.Lineage}} {
		b, err := json.Marshal(f.v)
		if err != nil {
			return sv, errdefs.Invalidf("version metadata cannot be encoded as JSON: %w", err)
		}
		if string(b) == "null" {
			b = []byte("{}")
		}
		*f.into = string(b)
	}
	return sv, nil
}

// retain applies retention to m after a registration: failures are logged,
// never returned, because the version is already registered.
func (r *Registry) retain(ctx context.Context, p *access.Principal, m Model) {
	pruned, err := store.Run(ctx, r.st, func(ctx context.Context) ([]int, error) {
		pruned, err := r.st.PruneModelVersions(ctx, m.id, r.opts.KeepVersions)
		if err == nil && len(pruned) > 0 {
			r.record(ctx, p, "model.version.prune", m, audit.ResultSuccess, "", map[string]any{
				"versions": pruned, "keep": r.opts.KeepVersions,
			})
		}
		return pruned, err
	})
	if err != nil {
		r.log.ErrorContext(ctx, "model retention failed", "model", r.ko.AuditObject(object(m)), "err", err)
		return
	}
	if len(pruned) > 0 {
		r.log.InfoContext(ctx, "model retention removed versions", "model", r.ko.AuditObject(object(m)), "versions", pruned)
	}
}

// Files returns the version ref names and its files (Reader and Open unset;
// read them with OpenFile).
func (r *Registry) Files(ctx context.Context, ref Ref) (Version, []File, error) {
	_, v, err := r.Resolve(ctx, ref)
	if err != nil {
		return Version{}, nil, err
	}
	man, err := r.manifest(ctx, v)
	if err != nil {
		return Version{}, nil, err
	}
	return v, man.Files, nil
}

func (r *Registry) manifest(ctx context.Context, v Version) (Manifest, error) {
	rc, err := r.blobs.Open(ctx, v.Digest)
	if err != nil {
		return Manifest{}, fmt.Errorf("model %s version %d: manifest: %w", v.Model, v.Version, err)
	}
	defer rc.Close()
	var man Manifest
	b, err := io.ReadAll(rc)
	if err == nil && blob.FromBytes(b) != v.Digest {
		err = blob.ErrCorrupt
	}
	if err == nil {
		err = json.Unmarshal(b, &man)
	}
	if err != nil {
		return Manifest{}, fmt.Errorf("model %s version %d: manifest: %w", v.Model, v.Version, err)
	}
	return man, nil
}

// OpenFile opens a file of the version ref names by its digest; the digest
// must belong to that version, which the caller must be able to read.
func (r *Registry) OpenFile(ctx context.Context, ref Ref, d blob.Digest) (io.ReadCloser, error) {
	v, files, err := r.Files(ctx, ref)
	if err != nil {
		return nil, err
	}
	for _, f := range files {
		if f.Digest == d {
			return r.blobs.Open(ctx, d)
		}
	}
	return nil, errdefs.NotFoundf("model %s version %d has no file with digest %s", ref.Base(), v.Version, d)
}
