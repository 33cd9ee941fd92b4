package ml

import (
	"context"
	"encoding/json"
	"io"
	"iter"
	"strings"

	"github.com/dockyard/dockyard/internal/access"
	"github.com/dockyard/dockyard/internal/audit"
	"github.com/dockyard/dockyard/internal/blob"
	"github.com/dockyard/dockyard/internal/containers"
	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/models"
	"github.com/dockyard/dockyard/internal/search"
	"github.com/dockyard/dockyard/internal/spl"
)

// Fit trains the notebook cmd.Algo on the incoming rows in a container and
// registers the files its save wrote as a new version of cmd.Into; the
// rows come back with the predictions of the fit's apply step merged in.
func (s *Service) Fit(ctx context.Context, cmd *spl.Fit, in search.RowIter, env *search.Env) (search.RowIter, error) {
	algo, shipped, err := fitAlgo(cmd)
	if err != nil {
		return nil, err
	}
	var ref models.Ref
	if cmd.Into.Name != "" {
		if ref, err = toRef(cmd.Into); err != nil {
			return nil, err
		}
		if ref.Version > 0 || ref.Alias != "" {
			return nil, errdefs.Invalidf("fit registers a new version of a model: write into %s, without @%s", ref.Base(), cmd.Into.Ref)
		}
	}
	fc := fitCall{cmd: cmd, algo: algo, shipped: shipped, ref: ref}
	return func(yield func(*search.Row, error) bool) {
		next, stop := iter.Pull2(in)
		defer stop()
		res, err := s.fit(ctx, fc, next, env)
		if err != nil {
			yield(nil, err)
			return
		}
		defer res.remove()
		m := &merged{sp: res.sp, results: res.results, targets: cmd.Targets, as: cmd.As, verbatim: shipped}
		if res.done.Status == "staged" {
			m.results = ""
		} else {
			m.onEnd = mismatch("fit", env)
		}
		m.rows(yield)
	}, nil
}

// mismatch reports a notebook that returned another number of results
// than it got rows.
func mismatch(op string, env *search.Env) func(sent, got int64) {
	return func(sent, got int64) {
		if sent != got {
			env.Message("%s: the notebook returned %d result rows for the %d rows it got; rows without a result have empty predictions", op, got, sent)
		}
	}
}

// unkeptModelName is the model name a fit without into gives the notebook
// (the seed's containers use the same name then); whatever its save writes
// stays in the container and is not registered.
const unkeptModelName = "default"

// fitCall is a fit resolved: the algorithm (a notebook name, or an MLTK
// algorithm name the shipped notebook runs) and the model it writes into
// (none: a fit without into keeps nothing).
type fitCall struct {
	cmd     *spl.Fit
	algo    string
	shipped bool
	ref     models.Ref
	seed    bool // the container speaks only the seed's API
}

func (s *Service) fit(ctx context.Context, fc fitCall, next func() (*search.Row, error, bool), env *search.Env) (_ *jobResult, err error) {
	cmd, ref, keep := fc.cmd, fc.ref, fc.ref.Name != ""
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	fi := audit.FitInfo{User: p.User, App: p.App, Into: ref.Base(), Algo: fc.algo}
	defer func() {
		if err != nil && !errdefs.IsPermissionDenied(err) {
			fi.Result, fi.Message = audit.ResultFailure, firstLine(err.Error())
			s.recordFit(ctx, fi)
		}
	}()
	if keep {
		if err := s.o.Models.AuthorizeWrite(ctx, ref); err != nil {
			return nil, err
		}
	}
	in, err := peek(next)
	if err != nil {
		return nil, err
	}
	if len(in.peeked) == 0 {
		return nil, errdefs.Invalidf("fit %s received no rows: check the search before fit", fc.algo)
	}
	cols, err := selectColumns(cmd.Targets, cmd.Features, in.peeked)
	if err != nil {
		return nil, err
	}
	h, err := s.container(ctx, p, cmd.Container, ref, true)
	if err != nil {
		return nil, err
	}
	fi.Container, fi.Image = containerName(h), h.Image
	if fc.seed, err = speaksSeed(ctx, h); err != nil {
		return nil, err
	}
	var nb code
	switch {
	case fc.seed && fc.shipped:
		return nil, errdefs.Invalidf("fit %s: container %s speaks only the seed's container API, so Dockyard cannot place its shipped notebook there; "+
			"fit in a Dockyard container (leave out container=), or run a notebook the container has with fit MLTKContainer algo=NOTEBOOK", fc.algo, containerName(h))
	case fc.seed:
		nb = code{name: fc.algo}
		env.Message("fit: container %s speaks only the seed's container API (POST /fit, POST /apply, GET /summary): it runs its own notebook %s; "+
			"Dockyard placed no notebook and syncs no model files there, so the model lives in that container and its apply and summary are sent back to it",
			containerName(h), fc.algo)
	case fc.shipped:
		nb = shippedCode()
	default:
		if nb, err = s.fitCode(ctx, p, fc.algo); err != nil {
			return nil, err
		}
	}
	fi.NotebookDigest = nb.v.Digest
	args := append(append([]string{}, cmd.Targets...), cmd.Features...)
	modelName := ref.Name
	if !keep {
		modelName = unkeptModelName
	}
	meta, err := buildMeta(metaInput{Algo: fc.algo, ModelName: modelName, Params: cmd.Params, Args: args, Columns: cols, Limits: env.Limits})
	if err != nil {
		return nil, err
	}
	unlock := s.lock(h)
	defer unlock()
	if !fc.seed {
		if err := s.place(ctx, h, nb); err != nil {
			return nil, err
		}
	}
	res, err := s.run(ctx, &job{op: "fit", h: h, code: nb, meta: meta, cols: cols, in: in, env: env, seed: fc.seed})
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			res.remove()
		}
	}()
	fi.Rows = res.stats.Sent
	if msg := missingMessage("fit", res.stats, cols.Names()); msg != "" {
		env.Message("%s", msg)
	}
	if res.done.Status == "staged" {
		env.Message("fit: %s", res.done.Message)
		return res, nil
	}
	if !keep {
		fi.Message = "no into: nothing kept"
		s.recordFit(ctx, fi)
		env.Message("fit: %s trained on %d rows in container %s; no model was kept (write into NAME to keep one)", fc.algo, res.stats.Sent, containerName(h))
		return res, nil
	}
	if len(res.done.Files) == 0 && !fc.seed {
		env.Message("fit: notebook %s saved no model files, so no version of %s was registered: define save(model, name) writing under MODEL_DIRECTORY", fc.algo, ref.Base())
		fi.Message = "no model files saved"
		s.recordFit(ctx, fi)
		return res, nil
	}
	v, err := s.register(ctx, h, fc, cols, nb, res)
	if err != nil {
		return nil, err
	}
	fi.Version = v.Version
	s.recordFit(ctx, fi)
	from := "notebook " + nb.name
	if fc.shipped {
		from = fc.algo + " (Dockyard's notebook " + nb.name + ")"
	}
	env.Message("fit: registered %s version %d (now current) from %s on %d rows in container %s",
		ref.Base(), v.Version, from, res.stats.Sent, containerName(h))
	return res, nil
}

// register downloads the files the notebook's save wrote (the registry
// verifies each against the SHA-256 the agent reported) and registers them
// as a new version with its lineage.
func (s *Service) register(ctx context.Context, h *containers.Handle, fc fitCall, cols columns,
	nb code, res *jobResult) (models.Version, error) {
	ref, cmd, nbv := fc.ref, fc.cmd, nb.v
	ag := h.Agent()
	files := make([]models.File, 0, len(res.done.Files))
	for _, f := range res.done.Files {
		path := f.Path
		files = append(files, models.File{
			Path: path, Size: f.Size, Digest: blob.Digest("sha256:" + f.SHA256),
			Open: func() (io.ReadCloser, error) { return ag.OpenModelFile(ctx, path) },
		})
	}
	params := map[string]string{}
	for _, o := range cmd.Params {
		params[o.Key] = o.Value
	}
	if fc.seed {
		f, err := seedFile(h, fc.algo, ref.Name)
		if err != nil {
			return models.Version{}, err
		}
		files = []models.File{f}
	}
	info := map[string]any{
		"duration_s":       res.duration.Seconds(),
		"rows_received":    res.stats.Total,
		"rows_used":        res.stats.Sent,
		"notebook_version": nbv.Version,
	}
	if fc.seed {
		info["container_api"] = "seed"
		info["notebook_version"] = "as the container holds it (not placed by Dockyard)"
	}
	if len(res.done.FitInfo) > 0 && string(res.done.FitInfo) != "null" {
		var nb any
		if json.Unmarshal(res.done.FitInfo, &nb) == nil {
			info["notebook"] = nb
		}
	}
	if len(res.done.Messages) > 0 {
		info["messages"] = res.done.Messages
	}
	if res.stats.Missing > 0 {
		info["missing_values"] = map[string]any{
			"rows": res.stats.Missing, "by_field": res.stats.ByField, "first_rows": res.stats.MissingRows,
			"action": "left out of the training data; passed through with empty predictions",
		}
	}
	imageDigest := ""
	if s.o.ImageDigest != nil {
		imageDigest = s.o.ImageDigest(h.Runtime, h.Image)
	}
	return s.o.Models.RegisterVersion(ctx, ref, models.VersionInput{
		Files: files, Algo: fc.algo, Params: params, FitInfo: info,
		Reason: "fit in container " + containerName(h),
		Lineage: models.Lineage{
			Notebook: nb.name, NotebookDigest: nbv.Digest, NotebookVersion: nbv.Version, NotebookFormat: nbv.Format,
			NotebookID: nbv.NotebookID, NotebookPinned: !fc.seed, Image: h.Image, ImageDigest: imageDigest, Container: containerName(h),
			Runtime: h.Runtime, Rows: res.stats.Sent, Features: cols.Features, Target: joinTargets(cols.Targets),
			DataFingerprint: res.stats.Fingerprint,
		},
	})
}

// recordFit writes the fit's audit event (index _internal: "mltk-container"
// "into=...").
func (s *Service) recordFit(ctx context.Context, fi audit.FitInfo) {
	if s.o.Audit == nil {
		return
	}
	fi.Time = s.o.Now().UTC()
	if s.o.RequestInfo != nil {
		fi.Source, fi.RequestID = s.o.RequestInfo(ctx)
	}
	if fi.App == "" {
		fi.App = access.DefaultApp
	}
	if err := s.o.Audit.Record(context.WithoutCancel(ctx), audit.FitEvent(fi)); err != nil {
		s.o.Log.ErrorContext(ctx, "audit record failed", "action", "model.fit", "into", fi.Into, "err", err)
	}
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	if len(s) > 300 {
		s = s[:300] + "..."
	}
	return s
}
