package api

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"github.com/dockyard/dockyard/internal/access"
	"github.com/dockyard/dockyard/internal/audit"
	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/models"
	"github.com/dockyard/dockyard/internal/wire"
)

// ModelsAPI serves the model registry. Models are knowledge objects: the
// registry checks their ACLs and answers `model not found: NAME` for a model
// the caller may not read, so most routes need only authentication. Import
// needs search, like `fit ... into`, since it may create a model. The
// registry audits every change (and every refused one) itself; this API
// records only exports, which change nothing but let data leave.
type ModelsAPI struct {
	*API
	Registry *models.Registry
	// MaxImportBytes bounds an imported archive (models.max_import_bytes).
	MaxImportBytes int64
}

// Routes lists the model routes. {ref} is [app:]NAME[@VERSION|@ALIAS],
// path-escaped; ?owner=USER addresses that user's private model (for
// holders of admin_all_objects).
func (m *ModelsAPI) Routes() []Route {
	return []Route{
		{Method: "GET", Pattern: "/v1/models", Cap: Authenticated, Action: "model.list", Handle: m.list},
		{Method: "GET", Pattern: "/v1/models/{ref}", Cap: Authenticated, Action: "model.show", Handle: m.show},
		{Method: "DELETE", Pattern: "/v1/models/{ref}", Cap: Authenticated, Action: "model.delete", Handle: m.delete},
		{Method: "GET", Pattern: "/v1/models/{ref}/versions", Cap: Authenticated, Action: "model.versions", Handle: m.versions},
		{Method: "POST", Pattern: "/v1/models/{ref}/versions", Cap: access.CapSearch, Action: "model.version.create", Handle: m.importTar},
		{Method: "GET", Pattern: "/v1/models/{ref}/history", Cap: Authenticated, Action: "model.history", Handle: m.history},
		{Method: "POST", Pattern: "/v1/models/{ref}/aliases", Cap: Authenticated, Action: "model.alias.set", Handle: m.setAlias},
		{Method: "DELETE", Pattern: "/v1/models/{ref}/aliases/{alias}", Cap: Authenticated, Action: "model.alias.delete", Handle: m.removeAlias},
		{Method: "PATCH", Pattern: "/v1/models/{ref}", Cap: Authenticated, Action: "model.update", Handle: m.update},
		{Method: "POST", Pattern: "/v1/models/{ref}/rollback", Cap: Authenticated, Action: "model.rollback", Handle: m.rollback},
		{Method: "POST", Pattern: "/v1/models/{ref}/share", Cap: Authenticated, Action: "model.share", Handle: m.share},
		{Method: "GET", Pattern: "/v1/models/{ref}/export", Cap: Authenticated, Action: "model.export", Handle: m.export},
	}
}

// refOf parses the {ref} path segment and the optional ?owner=.
func refOf(r *http.Request) (models.Ref, error) {
	ref, err := models.ParseRef(r.PathValue("ref"))
	if err != nil {
		return models.Ref{}, err
	}
	ref.Owner = r.URL.Query().Get("owner")
	return ref, nil
}

func (m *ModelsAPI) list(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	o := models.ListOptions{App: q.Get("app"), Owner: q.Get("owner"), Sharing: q.Get("sharing"), Algo: q.Get("algo"),
		Tag: q.Get("tag"), Search: q.Get("search"), After: q.Get("after")}
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return errdefs.Invalidf("limit %q is not valid: give a page size from 1", s)
		}
		o.Limit = n
	}
	page, err := m.Registry.List(r.Context(), o)
	if err != nil {
		return err
	}
	out := wire.ModelPage{Models: make([]wire.Model, 0, len(page.Models)), Next: page.Next}
	for _, md := range page.Models {
		out.Models = append(out.Models, modelWire(md))
	}
	return writeJSON(w, http.StatusOK, out)
}

func (m *ModelsAPI) show(w http.ResponseWriter, r *http.Request) error {
	ref, err := refOf(r)
	if err != nil {
		return err
	}
	s, err := m.Registry.Show(r.Context(), ref)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, summaryWire(s))
}

func (m *ModelsAPI) versions(w http.ResponseWriter, r *http.Request) error {
	ref, err := refOf(r)
	if err != nil {
		return err
	}
	vs, err := m.Registry.Versions(r.Context(), ref)
	if err != nil {
		return err
	}
	out := make([]wire.ModelVersion, 0, len(vs))
	for _, v := range vs {
		out = append(out, versionWire(v))
	}
	return writeJSON(w, http.StatusOK, out)
}

func (m *ModelsAPI) history(w http.ResponseWriter, r *http.Request) error {
	ref, err := refOf(r)
	if err != nil {
		return err
	}
	mvs, err := m.Registry.History(r.Context(), ref)
	if err != nil {
		return err
	}
	out := make([]wire.ModelAliasMove, 0, len(mvs))
	for _, mv := range mvs {
		out = append(out, moveWire(mv))
	}
	return writeJSON(w, http.StatusOK, out)
}

func (m *ModelsAPI) setAlias(w http.ResponseWriter, r *http.Request) error {
	ref, err := refOf(r)
	if err != nil {
		return err
	}
	var req wire.ModelAliasRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	mv, err := m.Registry.SetAlias(r.Context(), ref, req.Alias, req.Version, req.Reason)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, moveWire(mv))
}

// removeAlias removes an alias other than current; ?reason= is recorded
// in the history.
func (m *ModelsAPI) removeAlias(w http.ResponseWriter, r *http.Request) error {
	ref, err := refOf(r)
	if err != nil {
		return err
	}
	mv, err := m.Registry.RemoveAlias(r.Context(), ref, r.PathValue("alias"), r.URL.Query().Get("reason"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, moveWire(mv))
}

// update changes a model's description and tags.
func (m *ModelsAPI) update(w http.ResponseWriter, r *http.Request) error {
	ref, err := refOf(r)
	if err != nil {
		return err
	}
	var req wire.ModelUpdateRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	if req.Description == nil && req.Tags == nil {
		return errdefs.Invalid("nothing to change: give a description or tags")
	}
	u := models.ModelUpdate{Description: req.Description}
	if req.Tags != nil {
		u.Tags = append([]string{}, *req.Tags...)
	}
	md, err := m.Registry.Update(r.Context(), ref, u)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, modelWire(md))
}

func (m *ModelsAPI) rollback(w http.ResponseWriter, r *http.Request) error {
	ref, err := refOf(r)
	if err != nil {
		return err
	}
	var req wire.ModelRollbackRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	mv, err := m.Registry.Rollback(r.Context(), ref, req.To, req.Reason)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, moveWire(mv))
}

// share changes sharing and roles; what the request leaves out is kept.
func (m *ModelsAPI) share(w http.ResponseWriter, r *http.Request) error {
	ref, err := refOf(r)
	if err != nil {
		return err
	}
	var req wire.ModelShareRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	if req.Sharing == "" && req.Read == nil && req.Write == nil {
		return errdefs.Invalid("nothing to change: give sharing (user, app or global), read roles or write roles")
	}
	sharing, read, write := access.Sharing(req.Sharing), []string(nil), []string(nil)
	if req.Read != nil {
		read = *req.Read
	}
	if req.Write != nil {
		write = *req.Write
	}
	if req.Sharing == "" || req.Read == nil || req.Write == nil {
		s, err := m.Registry.Show(r.Context(), models.Ref{AppShared: ref.AppShared, Name: ref.Name, Owner: ref.Owner})
		if err != nil {
			return err
		}
		if req.Sharing == "" {
			sharing = s.Sharing
		}
		if req.Read == nil {
			read = s.ReadRoles
		}
		if req.Write == nil {
			write = s.WriteRoles
		}
	}
	md, err := m.Registry.Share(r.Context(), ref, sharing, read, write)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, modelWire(md))
}

func (m *ModelsAPI) delete(w http.ResponseWriter, r *http.Request) error {
	ref, err := refOf(r)
	if err != nil {
		return err
	}
	if err := m.Registry.Delete(r.Context(), ref); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// importTar registers the body, a tar archive in the format ExportTar
// writes (files may come before the manifest), as a new version;
// ?algo= replaces the archive's algo; ?source=dir (a directory packed by
// the client) or archive (the default) says what the history records. Any
// damaged, missing or extra file, or a body cut short, fails the import and
// registers nothing.
func (m *ModelsAPI) importTar(w http.ResponseWriter, r *http.Request) error {
	ref, err := refOf(r)
	if err != nil {
		return err
	}
	var reason string
	switch src := r.URL.Query().Get("source"); src {
	case "", "archive":
	case "dir":
		reason = models.ReasonImportDir
	default:
		return errdefs.Invalidf("source %q is not valid: give dir or archive", src)
	}
	body := &limitedBody{r: r.Body, left: m.MaxImportBytes}
	requireSig := false
	if q := r.URL.Query().Get("require_signature"); q != "" {
		if requireSig, err = strconv.ParseBool(q); err != nil {
			return errdefs.Invalidf("require_signature %q: give true or false", q)
		}
	}
	v, err := m.Registry.ImportTarWith(r.Context(), ref, body, models.ImportOptions{Algo: r.URL.Query().Get("algo"), Reason: reason, RequireSignature: requireSig})
	if err != nil && body.over {
		return errdefs.Invalidf("the model archive is larger than models.max_import_bytes (%d bytes); nothing was registered: "+
			"ask an administrator to raise the setting, or leave files the model does not need out of the directory", m.MaxImportBytes)
	}
	if errdefs.IsPermissionDenied(err) && requireSig {
		// The signature policy's refusal is a decision: audited.
		m.record(r, audit.Event{Action: "model.version.create", Object: ref.String(), Result: audit.ResultDenied, Message: err.Error(),
			Details: map[string]any{"require_signature": true}})
	}
	if errdefs.IsInvalid(err) {
		return errdefs.Invalidf("%w; nothing was registered", err)
	}
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, versionWire(v))
}

// export streams the version as a tar archive. The version is resolved
// first, so that an alias that moves meanwhile cannot change what is sent;
// its number and digest are in the Dockyard-Model-Version and
// Dockyard-Model-Digest headers.
func (m *ModelsAPI) export(w http.ResponseWriter, r *http.Request) error {
	ref, err := refOf(r)
	if err != nil {
		return err
	}
	md, v, err := m.Registry.Resolve(r.Context(), ref)
	if err != nil {
		return err
	}
	fixed := models.Ref{AppShared: ref.AppShared, Name: ref.Name, Owner: ref.Owner, Version: v.Version}
	w.Header().Set("Content-Type", "application/x-tar")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s-%d.tar"`, v.Model, v.Version))
	w.Header().Set("Dockyard-Model-Version", strconv.Itoa(v.Version))
	w.Header().Set("Dockyard-Model-Digest", string(v.Digest))
	fw := &flushWriter{w: w}
	if f, ok := w.(http.Flusher); ok {
		fw.f = f
	}
	if _, err := m.Registry.ExportTar(r.Context(), fixed, fw); err != nil {
		if fw.n == 0 {
			for _, h := range []string{"Content-Type", "Content-Disposition", "Dockyard-Model-Version", "Dockyard-Model-Digest"} {
				w.Header().Del(h)
			}
			return err
		}
		// Part of the archive is on its way: end the connection without a
		// clean end of body, so that the client sees a failed download.
		m.Log.Error("model export failed midway", "model", ref.String(), "err", err, "request_id", RequestID(r.Context()))
		panic(http.ErrAbortHandler)
	}
	m.record(r, audit.Event{Action: "model.export", Object: modelObject(md), Details: map[string]any{
		"version": v.Version, "digest": string(v.Digest), "files": v.Files, "size": v.Size}})
	return nil
}

// modelObject names a model in audit events as the registry does:
// app/name, or app/owner/name for a private one.
func modelObject(m models.Model) string {
	if m.Sharing == access.SharingUser {
		return m.App + "/" + m.Owner + "/" + m.Name
	}
	return m.App + "/" + m.Name
}

func modelWire(m models.Model) wire.Model {
	return wire.Model{Name: m.Name, App: m.App, Owner: m.Owner, Sharing: string(m.Sharing), Read: nonNil(m.Read), Write: nonNil(m.Write),
		Description: m.Description, Tags: nonNil(m.Tags), Current: m.Current, Latest: m.Latest, Algo: m.Algo,
		Created: m.Created, Updated: m.Updated, Perms: wire.ModelPerms(m.Perms)}
}

func summaryWire(s models.Summary) wire.ModelSummary {
	return wire.ModelSummary{Name: s.Name, App: s.App, Owner: s.Owner, Sharing: string(s.Sharing),
		ReadRoles: nonNil(s.ReadRoles), WriteRoles: nonNil(s.WriteRoles), Perms: wire.ModelPerms(s.Perms),
		Description: s.Description, Tags: nonNil(s.Tags), Version: s.Version, Digest: s.Digest, Algo: s.Algo,
		Created: s.Created, Creator: s.Creator, Params: s.Params, FitInfo: s.FitInfo,
		ModelLineage: s.Lineage, Files: s.Files, Size: s.Size, Aliases: s.Aliases}
}

func versionWire(v models.Version) wire.ModelVersion {
	return wire.ModelVersion{Model: v.Model, App: v.App, Version: v.Version, Digest: string(v.Digest), Created: v.Created,
		Creator: v.Creator, Algo: v.Algo, Params: v.Params, FitInfo: v.FitInfo, Lineage: v.Lineage,
		Files: v.Files, Size: v.Size, Aliases: nonNil(v.Aliases)}
}

func moveWire(mv models.AliasMove) wire.ModelAliasMove {
	return wire.ModelAliasMove{Alias: mv.Alias, From: mv.From, To: mv.To, User: mv.User, Time: mv.Time, Reason: mv.Reason}
}

// limitedBody reads at most left bytes and fails after, remembering that
// it did, so the answer can name the limit whatever the reader's caller
// made of the error.
type limitedBody struct {
	r    io.Reader
	left int64
	over bool
}

var errTooLarge = errors.New("request body too large")

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		// Probe one byte: a body of exactly the limit is fine.
		var one [1]byte
		n, err := b.r.Read(one[:])
		if n > 0 {
			b.over = true
			return 0, errTooLarge
		}
		return 0, err
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.r.Read(p)
	b.left -= int64(n)
	return n, err
}
