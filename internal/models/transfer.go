package models

import (
	"context"
	"fmt"
	"io"

	"github.com/dockyard/dockyard/internal/transfer"
)

// ImportDir registers the regular files under dir as a new version of the
// model ref names, with algo. It returns the messages of skipped entries.
func (r *Registry) ImportDir(ctx context.Context, ref Ref, dir, algo string) (Version, []string, error) {
	files, skipped, err := transfer.DirFiles(dir)
	if err != nil {
		return Version{}, skipped, err
	}
	for _, s := range skipped {
		r.log.InfoContext(ctx, "model import", "model", ref.Base(), "msg", s)
	}
	v, err := r.RegisterVersion(ctx, ref, VersionInput{Files: files, Algo: algo, Reason: ReasonImportDir})
	return v, skipped, err
}

// ExportTar writes the version ref names as a model archive (package
// transfer): manifest.json, metadata.json, signature.json when the
// registry has a BundleKey, then files/<path> for every file.
func (r *Registry) ExportTar(ctx context.Context, ref Ref, w io.Writer) (Version, error) {
	v, files, err := r.Files(ctx, ref)
	if err != nil {
		return Version{}, err
	}
	aw := transfer.NewWriter(w, v.Created)
	if err := aw.WriteMeta(Manifest{Files: files}, transfer.Metadata{
		Model: v.Model, App: v.App, Version: v.Version, Digest: v.Digest, Algo: v.Algo,
		Params: v.Params, FitInfo: v.FitInfo, Lineage: v.Lineage, Creator: v.Creator,
	}); err != nil {
		return Version{}, fmt.Errorf("export %s: %w", ref, err)
	}
	if r.opts.BundleKey != nil {
		if err := aw.WriteSignature(r.opts.BundleKey); err != nil {
			return Version{}, fmt.Errorf("export %s: signing: %w", ref, err)
		}
	}
	for _, f := range files {
		if err := r.copyBlob(ctx, aw, f); err != nil {
			return Version{}, fmt.Errorf("export %s file %q: %w", ref, f.Path, err)
		}
	}
	return v, aw.Close()
}

func (r *Registry) copyBlob(ctx context.Context, aw *transfer.Writer, f File) error {
	rc, err := r.blobs.Open(ctx, f.Digest)
	if err != nil {
		return err
	}
	defer rc.Close()
	_, err = aw.WriteFile(f, rc)
	return err
}

// ImportTar registers the version in an archive that ExportTar wrote as a
// new version of the model ref names. Every file is checked against the
// manifest: a changed, missing or extra file fails the import, naming the
// file, and nothing is registered. algo "" keeps the archive's algo;
// params, fit info and lineage come from metadata.json. The alias history
// records the move as "imported from an archive".
func (r *Registry) ImportTar(ctx context.Context, ref Ref, rd io.Reader, algo string) (Version, error) {
	return r.ImportTarReason(ctx, ref, rd, algo, "")
}

// ReasonImportDir is the alias history reason of a version imported from a
// directory (which the CLI uploads in the archive format).
const ReasonImportDir = "imported from a directory"

// ImportTarReason is ImportTar with the reason recorded in the alias
// history for the move of "current"; "" records "imported from an archive"
// (naming the exported model and version when metadata.json does).
func (r *Registry) ImportTarReason(ctx context.Context, ref Ref, rd io.Reader, algo, reason string) (Version, error) {
	return r.ImportTarWith(ctx, ref, rd, ImportOptions{Algo: algo, Reason: reason})
}

// ImportOptions are the options of ImportTarWith.
type ImportOptions struct {
	Algo   string // "" keeps the archive's
	Reason string // "" records "imported from an archive"
	// RequireSignature refuses an archive that is not signed by this
	// server's key or a trusted key of another site.
	RequireSignature bool
}

// ImportTarWith is ImportTar with options. A signed archive's signature
// is always verified (a signature that does not verify means the archive
// was changed, and fails the import); the version's lineage records the
// trusted key that signed it (SignedBy).
func (r *Registry) ImportTarWith(ctx context.Context, ref Ref, rd io.Reader, o ImportOptions) (Version, error) {
	algo, reason := o.Algo, o.Reason
	p, err := caller(ctx)
	if err != nil {
		return Version{}, err
	}
	if _, _, err := r.target(ctx, p, ref); err != nil {
		return Version{}, err
	}
	b, err := transfer.ReadBundle(rd, func(_ string, fr io.Reader) (transfer.Digest, int64, error) {
		return r.blobs.Put(ctx, fr)
	})
	if err != nil {
		return Version{}, err
	}
	files, meta := b.Files, b.Metadata
	if meta.Lineage.SignedBy, err = r.signer(ctx, b, o.RequireSignature); err != nil {
		return Version{}, err
	}
	if algo == "" {
		algo = meta.Algo
	}
	if reason == "" {
		reason = "imported from an archive"
		if meta.Model != "" {
			reason = fmt.Sprintf("imported from an archive of %s/%s version %d", meta.App, meta.Model, meta.Version)
		}
	}
	// The archive's lineage is kept as a record, but its notebook is not
	// pinned: only a fit on this server may make a version run the exact
	// content of a stored notebook for its readers.
	meta.Lineage.NotebookPinned = false
	return r.RegisterVersion(ctx, ref, VersionInput{
		Files: files, Algo: algo, Params: meta.Params, FitInfo: meta.FitInfo, Lineage: meta.Lineage, Reason: reason,
	})
}
