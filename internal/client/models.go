package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strconv"

	"github.com/dockyard/dockyard/internal/transfer"
	"github.com/dockyard/dockyard/internal/wire"
)

// ModelFilter filters and pages a model listing; empty fields do not filter.
type ModelFilter struct {
	App, Owner, Sharing, Algo, Tag, Search string
	Limit                                  int    // page size; 0: the server's default
	After                                  string // ModelPage.Next of the previous page
}

// ModelOption changes how a call on one model addresses it.
type ModelOption func(q url.Values)

// ModelOwner addresses owner's private model in the current app instead of
// resolving the name as the caller (for holders of admin_all_objects; for
// anyone else another user's private model is `model not found`). "" does
// nothing.
func ModelOwner(owner string) ModelOption {
	return func(q url.Values) {
		if owner != "" {
			q.Set("owner", owner)
		}
	}
}

// modelPath is /v1/models/REF plus suffix, with the query of q and opts;
// ref is [app:]NAME[@VERSION|@ALIAS].
func modelPath(ref, suffix string, q url.Values, opts []ModelOption) string {
	if q == nil {
		q = url.Values{}
	}
	for _, o := range opts {
		o(q)
	}
	p := "/v1/models/" + url.PathEscape(ref) + suffix
	if len(q) > 0 {
		p += "?" + q.Encode()
	}
	return p
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
func (c *Client) Model(ctx context.Context, ref string, opts ...ModelOption) (wire.ModelSummary, error) {
	var out wire.ModelSummary
	return out, c.Do(ctx, "GET", modelPath(ref, "", nil, opts), nil, &out)
}

// ModelVersions lists a model's versions, newest first.
func (c *Client) ModelVersions(ctx context.Context, ref string, opts ...ModelOption) ([]wire.ModelVersion, error) {
	var out []wire.ModelVersion
	return out, c.Do(ctx, "GET", modelPath(ref, "/versions", nil, opts), nil, &out)
}

// ModelHistory lists every alias move of a model, oldest first.
func (c *Client) ModelHistory(ctx context.Context, ref string, opts ...ModelOption) ([]wire.ModelAliasMove, error) {
	var out []wire.ModelAliasMove
	return out, c.Do(ctx, "GET", modelPath(ref, "/history", nil, opts), nil, &out)
}

// SetModelAlias points alias at version.
func (c *Client) SetModelAlias(ctx context.Context, ref, alias string, version int, reason string, opts ...ModelOption) (wire.ModelAliasMove, error) {
	var out wire.ModelAliasMove
	return out, c.Do(ctx, "POST", modelPath(ref, "/aliases", nil, opts), wire.ModelAliasRequest{Alias: alias, Version: version, Reason: reason}, &out)
}

// RemoveModelAlias removes alias (not current, which only moves) and
// records reason in the history.
func (c *Client) RemoveModelAlias(ctx context.Context, ref, alias, reason string, opts ...ModelOption) (wire.ModelAliasMove, error) {
	q := url.Values{}
	if reason != "" {
		q.Set("reason", reason)
	}
	var out wire.ModelAliasMove
	return out, c.Do(ctx, "DELETE", modelPath(ref, "/aliases/"+url.PathEscape(alias), q, opts), nil, &out)
}

// RollbackModel moves the current alias to version to.
func (c *Client) RollbackModel(ctx context.Context, ref string, to int, reason string, opts ...ModelOption) (wire.ModelAliasMove, error) {
	var out wire.ModelAliasMove
	return out, c.Do(ctx, "POST", modelPath(ref, "/rollback", nil, opts), wire.ModelRollbackRequest{To: to, Reason: reason}, &out)
}

// ShareModel changes a model's sharing and roles.
func (c *Client) ShareModel(ctx context.Context, ref string, req wire.ModelShareRequest, opts ...ModelOption) (wire.Model, error) {
	var out wire.Model
	return out, c.Do(ctx, "POST", modelPath(ref, "/share", nil, opts), req, &out)
}

// ModelUpdate is the body of PATCH /v1/models/{ref}: a nil field is kept;
// a non-nil empty Tags removes every tag.
type ModelUpdate = wire.ModelUpdateRequest

// UpdateModel changes a model's description and tags.
func (c *Client) UpdateModel(ctx context.Context, ref string, u ModelUpdate, opts ...ModelOption) (wire.Model, error) {
	var out wire.Model
	return out, c.Do(ctx, "PATCH", modelPath(ref, "", nil, opts), u, &out)
}

// DeleteModel deletes a model with its versions and aliases.
func (c *Client) DeleteModel(ctx context.Context, ref string, opts ...ModelOption) error {
	return c.Do(ctx, "DELETE", modelPath(ref, "", nil, opts), nil, nil)
}

// ImportModelTar registers an archive (the format ExportModel writes) as a
// new version of ref; algo "" keeps the archive's.
func (c *Client) ImportModelTar(ctx context.Context, ref, algo string, archive io.Reader) (wire.ModelVersion, error) {
	return c.importModel(ctx, ref, algo, "archive", archive)
}

// importModel uploads an archive; source (dir or archive) says what the
// alias history records it came from.
func (c *Client) importModel(ctx context.Context, ref, algo, source string, archive io.Reader, more ...url.Values) (wire.ModelVersion, error) {
	q := url.Values{"source": {source}}
	for _, m := range more {
		for k, v := range m {
			q[k] = v
		}
	}
	if algo != "" {
		q.Set("algo", algo)
	}
	p := modelPath(ref, "/versions", q, nil)
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
	files, skipped, err := transfer.DirFiles(dir)
	if err != nil {
		return wire.ModelVersion{}, skipped, err
	}
	pr, pw := io.Pipe()
	werr := make(chan error, 1)
	go func() {
		err := transfer.WriteFiles(pw, files)
		pw.CloseWithError(err)
		werr <- err
	}()
	v, err := c.importModel(ctx, ref, algo, "dir", pr)
	pr.CloseWithError(io.ErrClosedPipe) // unblocks the writer if the server answered early
	if packErr := <-werr; packErr != nil && !errors.Is(packErr, io.ErrClosedPipe) {
		return wire.ModelVersion{}, skipped, packErr
	}
	return v, skipped, err
}

// ModelExport describes a downloaded version.
type ModelExport struct {
	Version int
	Digest  string
	Bytes   int64
}

// ExportModel writes the version ref names as a tar archive to w.
func (c *Client) ExportModel(ctx context.Context, ref string, w io.Writer, opts ...ModelOption) (ModelExport, error) {
	resp, err := c.Raw(ctx, "GET", modelPath(ref, "/export", nil, opts), nil, "")
	if err != nil {
		return ModelExport{}, err
	}
	defer resp.Body.Close()
	out := ModelExport{Digest: resp.Header.Get("Dockyard-Model-Digest")}
	out.Version, _ = strconv.Atoi(resp.Header.Get("Dockyard-Model-Version"))
	out.Bytes, err = io.Copy(w, resp.Body)
	if err != nil {
		return out, fmt.Errorf("model export of %s: the download broke off after %d bytes (%w); try again", ref, out.Bytes, err)
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
