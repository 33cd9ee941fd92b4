package models

import (
	"archive/tar"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/dockyard/dockyard/internal/blob"
	"github.com/dockyard/dockyard/internal/errdefs"
)

// Names of the entries of an exported version archive.
const (
	TarManifest = "manifest.json" // canonical manifest: its digest is the version's digest
	TarMetadata = "metadata.json" // ExportMetadata
	TarFilesDir = "files/"        // files/<path> for each manifest entry
)

// maxMetaBytes bounds manifest.json and metadata.json in an archive.
const maxMetaBytes = 64 << 20

// ExportMetadata describes the exported version in metadata.json.
type ExportMetadata struct {
	Model   string            `json:"model"`
	App     string            `json:"app"`
	Version int               `json:"version"`
	Digest  blob.Digest       `json:"digest"`
	Algo    string            `json:"algo"`
	Params  map[string]string `json:"params"`
	FitInfo map[string]any    `json:"fit_info"`
	Lineage Lineage           `json:"lineage"`
	Creator string            `json:"creator"`
}

// DirFiles lists the regular files under dir as version files that open
// lazily. Symbolic links and other special files are skipped, each with a
// message in skipped.
func DirFiles(dir string) (files []File, skipped []string, err error) {
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		switch {
		case d.Type()&fs.ModeSymlink != 0:
			skipped = append(skipped, fmt.Sprintf("skipped %s: symbolic links are not imported; copy the file it points to", rel))
			return nil
		case d.IsDir():
			return nil
		case !d.Type().IsRegular():
			skipped = append(skipped, fmt.Sprintf("skipped %s: not a regular file", rel))
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		full := p
		files = append(files, File{Path: rel, Size: info.Size(), Open: func() (io.ReadCloser, error) { return os.Open(full) }})
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("read model directory %s: %w", dir, err)
	}
	if len(files) == 0 {
		return nil, skipped, errdefs.Invalid(fmt.Sprintf("directory %s holds no regular files to import", dir))
	}
	return files, skipped, nil
}

// ImportDir registers the regular files under dir as a new version of the
// model ref names, with algo. It returns the messages of skipped entries.
func (r *Registry) ImportDir(ctx context.Context, ref Ref, dir, algo string) (Version, []string, error) {
	files, skipped, err := DirFiles(dir)
	if err != nil {
		return Version{}, skipped, err
	}
	for _, s := range skipped {
		r.log.InfoContext(ctx, "model import", "model", ref.Base(), "msg", s)
	}
	v, err := r.RegisterVersion(ctx, ref, VersionInput{Files: files, Algo: algo, Reason: ReasonImportDir})
	return v, skipped, err
}

// ExportTar writes the version ref names as a tar archive: manifest.json,
// metadata.json, then files/<path> for every file.
func (r *Registry) ExportTar(ctx context.Context, ref Ref, w io.Writer) (Version, error) {
	v, files, err := r.Files(ctx, ref)
	if err != nil {
		return Version{}, err
	}
	body, _, err := Manifest{Files: files}.Canonical()
	if err != nil {
		return Version{}, err
	}
	meta, err := json.MarshalIndent(ExportMetadata{
		Model: v.Model, App: v.App, Version: v.Version, Digest: v.Digest, Algo: v.Algo,
		Params: v.Params, FitInfo: v.FitInfo, Lineage: v.Lineage, Creator: v.Creator,
	}, "", "  ")
	if err != nil {
		return Version{}, err
	}
	tw := tar.NewWriter(w)
	hdr := func(name string, size int64) *tar.Header {
		return &tar.Header{Name: name, Size: size, Mode: 0o644, ModTime: v.Created, Typeflag: tar.TypeReg, Format: tar.FormatPAX}
	}
	for _, e := range []struct {
		name string
		b    []byte
	}{{TarManifest, body}, {TarMetadata, meta}} {
		if err := tw.WriteHeader(hdr(e.name, int64(len(e.b)))); err != nil {
			return Version{}, err
		}
		if _, err := tw.Write(e.b); err != nil {
			return Version{}, err
		}
	}
	for _, f := range files {
		if err := r.copyBlob(ctx, tw, hdr(TarFilesDir+f.Path, f.Size), f.Digest); err != nil {
			return Version{}, fmt.Errorf("export %s file %q: %w", ref, f.Path, err)
		}
	}
	return v, tw.Close()
}

func (r *Registry) copyBlob(ctx context.Context, tw *tar.Writer, h *tar.Header, d blob.Digest) error {
	rc, err := r.blobs.Open(ctx, d)
	if err != nil {
		return err
	}
	defer rc.Close()
	if err := tw.WriteHeader(h); err != nil {
		return err
	}
	_, err = io.Copy(tw, rc)
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
	p, err := caller(ctx)
	if err != nil {
		return Version{}, err
	}
	if _, _, err := r.target(ctx, p, ref); err != nil {
		return Version{}, err
	}
	var man *Manifest
	var meta ExportMetadata
	got := map[string]File{}
	tr := tar.NewReader(rd)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return Version{}, errdefs.Invalid(fmt.Sprintf("model archive is not a valid tar file: %v", err))
		}
		switch {
		case h.Typeflag == tar.TypeDir:
			continue
		case h.Typeflag != tar.TypeReg:
			return Version{}, errdefs.Invalid(fmt.Sprintf("model archive entry %q is not a regular file", h.Name))
		case h.Name == TarManifest:
			man = &Manifest{}
			if err := readJSON(tr, man); err != nil {
				return Version{}, errdefs.Invalid(fmt.Sprintf("model archive: %s is not valid: %v", TarManifest, err))
			}
		case h.Name == TarMetadata:
			if err := readJSON(tr, &meta); err != nil {
				return Version{}, errdefs.Invalid(fmt.Sprintf("model archive: %s is not valid: %v", TarMetadata, err))
			}
		case strings.HasPrefix(h.Name, TarFilesDir):
			path := strings.TrimPrefix(h.Name, TarFilesDir)
			if err := ValidatePath(path); err != nil {
				return Version{}, fmt.Errorf("model archive entry %q: %w", h.Name, err)
			}
			if _, dup := got[path]; dup {
				return Version{}, errdefs.Invalid(fmt.Sprintf("model archive holds file %q twice", path))
			}
			d, n, err := r.blobs.Put(ctx, tr)
			if err != nil {
				return Version{}, fmt.Errorf("model archive file %q: %w", path, err)
			}
			got[path] = File{Path: path, Digest: d, Size: n}
		default:
			return Version{}, errdefs.Invalid(fmt.Sprintf("model archive entry %q is unexpected: want %s, %s and %s<path>",
				h.Name, TarManifest, TarMetadata, TarFilesDir))
		}
	}
	files, err := checkArchive(man, meta, got)
	if err != nil {
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

func readJSON(rd io.Reader, into any) error {
	b, err := io.ReadAll(io.LimitReader(rd, maxMetaBytes+1))
	if err != nil {
		return err
	}
	if len(b) > maxMetaBytes {
		return fmt.Errorf("larger than %d bytes", maxMetaBytes)
	}
	return json.Unmarshal(b, into)
}

// checkArchive compares the files received with the manifest.
func checkArchive(man *Manifest, meta ExportMetadata, got map[string]File) ([]File, error) {
	if man == nil {
		return nil, errdefs.Invalid("model archive has no " + TarManifest + "; export it with models export")
	}
	if meta.Digest != "" {
		if _, d, err := man.Canonical(); err != nil || d != meta.Digest {
			return nil, errdefs.Invalid(fmt.Sprintf("model archive: %s does not match the digest %s in %s", TarManifest, meta.Digest, TarMetadata))
		}
	}
	want := map[string]bool{}
	var files []File
	for _, f := range man.Files {
		if err := ValidatePath(f.Path); err != nil {
			return nil, fmt.Errorf("model archive manifest: %w", err)
		}
		want[f.Path] = true
		g, ok := got[f.Path]
		switch {
		case !ok:
			return nil, errdefs.Invalid(fmt.Sprintf("model archive: file %q is in the manifest but missing from the archive", f.Path))
		case g.Digest != f.Digest || g.Size != f.Size:
			return nil, errdefs.Invalid(fmt.Sprintf("model archive: file %q does not match the manifest (sha256 %s, want %s): the archive was changed or damaged",
				f.Path, g.Digest.Hex(), f.Digest.Hex()))
		}
		files = append(files, File{Path: f.Path, Digest: f.Digest, Size: f.Size})
	}
	extra := []string{}
	for p := range got {
		if !want[p] {
			extra = append(extra, p)
		}
	}
	if len(extra) > 0 {
		sort.Strings(extra)
		return nil, errdefs.Invalid(fmt.Sprintf("model archive: file %q is not in the manifest", extra[0]))
	}
	return files, nil
}
