package client

import (
	"archive/tar"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strconv"

	"github.com/dockyard/dockyard/internal/blob"
	"github.com/dockyard/dockyard/internal/models"
	"github.com/dockyard/dockyard/internal/wire"
)

// ModelFilter filters and pages a model listing; empty fields do not filter.
type ModelFilter struct {
	App, Owner, Sharing, Algo, Tag, Search string
	Limit                                  int    // page size; 0: the server's default
	After                                  string // ModelPage.Next of the previous page
}

// modelPath is /v1/models/REF plus suffix; ref is [app:]NAME[@VERSION|@ALIAS].
func modelPath(ref, suffix string) string {
	return "/v1/models/" + url.PathEscape(ref) + suffix
}

// Models returns one page of the models the caller may read.
func (c *Client) Models(ctx context.Context, f ModelFilter) (wire.ModelPage, error) {
	q := url.Values{}
	for k, v := range map[string]string{"app": f.App, "owner": f.Owner, "sharing": f.Sharing, "algo": f.Algo,
		"tag": f.Tag, "search": f.Search, "after": f.After} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if f.Limit > 0 {
		q.Set("limit", strconv.Itoa(f.Limit))
	}
	p := "/v1/models"
	if len(q) > 0 {
		p += "?" + q.Encode()
	}
	var out wire.ModelPage
	return out, c.Do(ctx, "GET", p, nil, &out)
}

// Model returns the summary of the model and version ref names.
func (c *Client) Model(ctx context.Context, ref string) (wire.ModelSummary, error) {
	var out wire.ModelSummary
	return out, c.Do(ctx, "GET", modelPath(ref, ""), nil, &out)
}

// ModelVersions lists a model's versions, newest first.
func (c *Client) ModelVersions(ctx context.Context, ref string) ([]wire.ModelVersion, error) {
	var out []wire.ModelVersion
	return out, c.Do(ctx, "GET", modelPath(ref, "/versions"), nil, &out)
}

// ModelHistory lists every alias move of a model, oldest first.
func (c *Client) ModelHistory(ctx context.Context, ref string) ([]wire.ModelAliasMove, error) {
	var out []wire.ModelAliasMove
	return out, c.Do(ctx, "GET", modelPath(ref, "/history"), nil, &out)
}

// SetModelAlias points alias at version.
func (c *Client) SetModelAlias(ctx context.Context, ref, alias string, version int, reason string) (wire.ModelAliasMove, error) {
	var out wire.ModelAliasMove
	return out, c.Do(ctx, "POST", modelPath(ref, "/aliases"), wire.ModelAliasRequest{Alias: alias, Version: version, Reason: reason}, &out)
}

// RollbackModel moves the current alias to version to.
func (c *Client) RollbackModel(ctx context.Context, ref string, to int, reason string) (wire.ModelAliasMove, error) {
	var out wire.ModelAliasMove
	return out, c.Do(ctx, "POST", modelPath(ref, "/rollback"), wire.ModelRollbackRequest{To: to, Reason: reason}, &out)
}

// ShareModel changes a model's sharing and roles.
func (c *Client) ShareModel(ctx context.Context, ref string, req wire.ModelShareRequest) (wire.Model, error) {
	var out wire.Model
	return out, c.Do(ctx, "POST", modelPath(ref, "/share"), req, &out)
}

// DeleteModel deletes a model with its versions and aliases.
func (c *Client) DeleteModel(ctx context.Context, ref string) error {
	return c.Do(ctx, "DELETE", modelPath(ref, ""), nil, nil)
}

// ImportModelTar registers an archive (the format ExportModel writes) as a
// new version of ref; algo "" keeps the archive's.
func (c *Client) ImportModelTar(ctx context.Context, ref, algo string, archive io.Reader) (wire.ModelVersion, error) {
	p := modelPath(ref, "/versions")
	if algo != "" {
		p += "?" + url.Values{"algo": {algo}}.Encode()
	}
	src := &errTrackingReader{r: archive}
	resp, err := c.Raw(ctx, "POST", p, src, "application/x-tar")
	if src.err != nil {
		return wire.ModelVersion{}, fmt.Errorf("reading the model archive to upload: %w; nothing was registered", src.err)
	}
	if err != nil {
		return wire.ModelVersion{}, err
	}
	defer resp.Body.Close()
	var out wire.ModelVersion
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return out, fmt.Errorf("model import: decoding the answer: %w", err)
	}
	return out, nil
}

// ImportModelDir registers the regular files under dir as a new version of
// ref. The files are streamed in one pass, packed as an archive whose
// manifest (with each file's SHA-256) comes last; the server checks every
// file against it. It returns messages for skipped entries (links, special
// files).
func (c *Client) ImportModelDir(ctx context.Context, ref, dir, algo string) (wire.ModelVersion, []string, error) {
	files, skipped, err := models.DirFiles(dir)
	if err != nil {
		return wire.ModelVersion{}, skipped, err
	}
	pr, pw := io.Pipe()
	werr := make(chan error, 1)
	go func() {
		err := WriteModelTar(pw, files)
		pw.CloseWithError(err)
		werr <- err
	}()
	v, err := c.ImportModelTar(ctx, ref, algo, pr)
	pr.CloseWithError(io.ErrClosedPipe) // unblocks the writer if the server answered early
	if packErr := <-werr; packErr != nil && !errors.Is(packErr, io.ErrClosedPipe) {
		return wire.ModelVersion{}, skipped, packErr
	}
	return v, skipped, err
}

// WriteModelTar writes files (opened with File.Open) as a model archive:
// files/<path> entries, then manifest.json with each file's size and
// SHA-256 as read, then metadata.json with the manifest's digest.
func WriteModelTar(w io.Writer, files []models.File) error {
	tw := tar.NewWriter(w)
	var man models.Manifest
	for _, f := range files {
		got, err := writeTarFile(tw, f)
		if err != nil {
			return err
		}
		man.Files = append(man.Files, got)
	}
	body, digest, err := man.Canonical()
	if err != nil {
		return err
	}
	meta, err := json.Marshal(models.ExportMetadata{Digest: digest})
	if err != nil {
		return err
	}
	for _, e := range []struct {
		name string
		b    []byte
	}{{models.TarManifest, body}, {models.TarMetadata, meta}} {
		if err := tw.WriteHeader(&tar.Header{Name: e.name, Size: int64(len(e.b)), Mode: 0o644, Typeflag: tar.TypeReg, Format: tar.FormatPAX}); err != nil {
			return err
		}
		if _, err := tw.Write(e.b); err != nil {
			return err
		}
	}
	return tw.Close()
}

// writeTarFile copies one file into the archive, hashing it on the way.
func writeTarFile(tw *tar.Writer, f models.File) (models.File, error) {
	rc, err := f.Open()
	if err != nil {
		return models.File{}, fmt.Errorf("file %s: %w", f.Path, err)
	}
	defer rc.Close()
	if err := tw.WriteHeader(&tar.Header{Name: models.TarFilesDir + f.Path, Size: f.Size, Mode: 0o644, Typeflag: tar.TypeReg, Format: tar.FormatPAX}); err != nil {
		return models.File{}, fmt.Errorf("file %s: %w", f.Path, err)
	}
	h := sha256.New()
	n, err := io.CopyN(io.MultiWriter(tw, h), rc, f.Size)
	if err != nil {
		return models.File{}, fmt.Errorf("file %s: read %d of %d bytes: %w; did it change during the import? try again", f.Path, n, f.Size, err)
	}
	return models.File{Path: f.Path, Size: n, Digest: blob.Digest("sha256:" + hex.EncodeToString(h.Sum(nil)))}, nil
}

// ModelExport describes a downloaded version.
type ModelExport struct {
	Version int
	Digest  string
	Bytes   int64
}

// ExportModel writes the version ref names as a tar archive to w.
func (c *Client) ExportModel(ctx context.Context, ref string, w io.Writer) (ModelExport, error) {
	resp, err := c.Raw(ctx, "GET", modelPath(ref, "/export"), nil, "")
	if err != nil {
		return ModelExport{}, err
	}
	defer resp.Body.Close()
	out := ModelExport{Digest: resp.Header.Get("Dockyard-Model-Digest")}
	out.Version, _ = strconv.Atoi(resp.Header.Get("Dockyard-Model-Version"))
	out.Bytes, err = io.Copy(w, resp.Body)
	if err != nil {
		return out, fmt.Errorf("model export of %s: the download broke off after %d bytes (%v); try again", ref, out.Bytes, err)
	}
	return out, nil
}

// errTrackingReader remembers the first read error other than EOF, so that
// a failing archive is reported as such and not as a network failure.
type errTrackingReader struct {
	r   io.Reader
	err error
}

func (e *errTrackingReader) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err != nil && err != io.EOF && e.err == nil {
		e.err = err
	}
	return n, err
}
