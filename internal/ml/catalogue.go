package ml

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/dockyard/dockyard/internal/containers"
	"github.com/dockyard/dockyard/internal/models"
	"github.com/dockyard/dockyard/internal/search"
	"github.com/dockyard/dockyard/internal/spl"
)

// kv is one key/value row of a summary.
type kv struct{ k, v string }

func kvRows(l []kv) []*search.Row {
	out := make([]*search.Row, 0, len(l))
	for _, e := range l {
		r := search.NewRow(2)
		r.Set("key", search.StrValue(e.k))
		r.Set("value", search.StrValue(e.v))
		out = append(out, r)
	}
	return out
}

// Summary returns the registry's summary of the model version as rows of
// key and value, followed by the notebook's own summary (keys prefixed
// "notebook.") when a container is running for the caller.
func (s *Service) Summary(ctx context.Context, cmd *spl.Summary, _ search.RowIter, env *search.Env) (search.RowIter, error) {
	ref, err := toRef(cmd.Model)
	if err != nil {
		return nil, err
	}
	return func(yield func(*search.Row, error) bool) {
		rows, err := s.summary(ctx, ref, cmd.Container, env)
		if err != nil {
			yield(nil, err)
			return
		}
		for _, r := range rows {
			if !yield(r, nil) {
				return
			}
		}
	}, nil
}

// summary gives the registry's summary and the notebook's own, from the
// container named (whose refusal fails the summary) or, without one, a
// running container of the caller's, if any.
func (s *Service) summary(ctx context.Context, ref models.Ref, named string, env *search.Env) ([]*search.Row, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	sum, err := s.o.Models.Show(ctx, ref)
	if err != nil {
		return nil, err
	}
	l := registryKV(sum)
	if sum.Version == 0 {
		return kvRows(l), nil
	}
	if nb, ok, err := s.seedResidentSummary(ctx, p, ref, sum, named, env); ok {
		if err != nil {
			return nil, err
		}
		return kvRows(append(l, nb...)), nil
	}
	h, err := s.container(ctx, p, named, ref, false)
	if err != nil && named != "" {
		return nil, err
	}
	if err != nil || h == nil {
		if err != nil {
			env.Message("summary: the notebook's own summary is not available: %v", firstLine(err.Error()))
		} else {
			env.Message("summary: no container is running for you, so only the registry's summary is shown; a fit or apply starts your development container")
		}
		return kvRows(l), nil
	}
	nb, err := s.notebookSummary(ctx, h, ref, sum, env)
	if err != nil {
		env.Message("summary: the notebook's own summary is not available: %s", firstLine(err.Error()))
	}
	return kvRows(append(l, nb...)), nil
}

// notebookSummary loads the version's files into the container and asks
// the notebook for its summary.
func (s *Service) notebookSummary(ctx context.Context, h *containers.Handle, ref models.Ref, sum models.Summary, env *search.Env) ([]kv, error) {
	exact := ref
	exact.Version, exact.Alias = sum.Version, ""
	v, files, err := s.o.Models.Files(ctx, exact)
	if err != nil {
		return nil, err
	}
	nb, err := s.versionCode(ctx, h.Principal, exact, v, env)
	if err != nil {
		return nil, err
	}
	unlock := s.lock(h)
	defer unlock()
	if err := s.place(ctx, h, nb); err != nil {
		return nil, err
	}
	if err := s.syncFiles(ctx, h, exact, v, files, env); err != nil {
		return nil, err
	}
	ans, err := h.Agent().SummaryPinned(ctx, sum.Algo, sum.Name, nb.sha())
	if err != nil {
		return nil, err
	}
	if ans.Status != "success" {
		return nil, notebookError("summary", sum.Algo, containerName(h), ans.Message)
	}
	var out []kv
	var doc any
	if len(ans.Summary) > 0 && json.Unmarshal(ans.Summary, &doc) == nil {
		flatten("notebook", doc, &out)
	}
	return out, nil
}

func registryKV(m models.Summary) []kv {
	l := []kv{
		{"name", m.Name}, {"app", m.App}, {"owner", m.Owner}, {"sharing", string(m.Sharing)},
		{"read_roles", strings.Join(m.ReadRoles, ",")}, {"write_roles", strings.Join(m.WriteRoles, ",")},
		{"version", strconv.Itoa(m.Version)},
	}
	if m.Version == 0 {
		return append(l, kv{"message", "the model has no versions yet"})
	}
	aliases := make([]string, 0, len(m.Aliases))
	for a, n := range m.Aliases {
		aliases = append(aliases, fmt.Sprintf("%s=%d", a, n))
	}
	slices.Sort(aliases)
	l = append(l,
		kv{"aliases", strings.Join(aliases, ",")}, kv{"digest", m.Digest}, kv{"algo", m.Algo},
		kv{"created", m.Created.UTC().Format(time.RFC3339)}, kv{"creator", m.Creator},
		kv{"files", strconv.Itoa(m.Files)}, kv{"size", strconv.FormatInt(m.Size, 10)},
	)
	for _, e := range []kv{
		{"notebook", m.Notebook}, {"notebook_digest", m.NotebookDigest}, {"image", m.Image}, {"image_digest", m.ImageDigest},
		{"container", m.Container}, {"runtime", m.Runtime}, {"target", m.Target}, {"features", strings.Join(m.Features, ",")},
		{"data_fingerprint", m.DataFingerprint},
	} {
		if e.v != "" {
			l = append(l, e)
		}
	}
	if m.NotebookVersion > 0 {
		l = append(l, kv{"notebook_version", strconv.Itoa(m.NotebookVersion)})
	}
	if m.NotebookPinned {
		l = append(l, kv{"notebook_pinned", "true"})
	}
	if m.Rows > 0 {
		l = append(l, kv{"rows", strconv.FormatInt(m.Rows, 10)})
	}
	params := map[string]any{}
	for k, v := range m.Params {
		params[k] = v
	}
	flatten("params", params, &l)
	flatten("fit_info", m.FitInfo, &l)
	return l
}

// flatten appends the leaves of a JSON document as dotted keys, sorted;
// lists of plain values are joined by commas, other lists are JSON.
func flatten(prefix string, v any, out *[]kv) {
	switch x := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			flatten(prefix+"."+k, x[k], out)
		}
	case []any:
		parts := make([]string, 0, len(x))
		for _, e := range x {
			switch e.(type) {
			case map[string]any, []any:
				b, _ := json.Marshal(x)
				*out = append(*out, kv{prefix, string(b)})
				return
			}
			parts = append(parts, scalar(e))
		}
		*out = append(*out, kv{prefix, strings.Join(parts, ",")})
	default:
		*out = append(*out, kv{prefix, scalar(x)})
	}
}

func scalar(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case int64:
		return strconv.FormatInt(x, 10)
	case int:
		return strconv.Itoa(x)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// ListModels lists the models the caller may read: one row per model.
func (s *Service) ListModels(ctx context.Context, _ *spl.Listmodels, _ search.RowIter, env *search.Env) (search.RowIter, error) {
	return func(yield func(*search.Row, error) bool) {
		after := ""
		for {
			page, err := s.o.Models.List(ctx, models.ListOptions{After: after})
			if err != nil {
				yield(nil, err)
				return
			}
			for _, m := range page.Models {
				r := search.NewRow(8)
				r.Set("name", search.StrValue(m.Name))
				r.Set("app", search.StrValue(m.App))
				r.Set("owner", search.StrValue(m.Owner))
				r.Set("sharing", search.StrValue(string(m.Sharing)))
				r.Set("version", search.NumValue(float64(m.Current)))
				r.Set("latest", search.NumValue(float64(m.Latest)))
				r.Set("algo", search.StrValue(m.Algo))
				r.Set("updated", search.StrValue(m.Updated.UTC().Format(time.RFC3339)))
				if !yield(r, nil) {
					return
				}
			}
			if page.Next == "" {
				return
			}
			after = page.Next
		}
	}, nil
}

// DeleteModel deletes a model with all its versions (write permission;
// the registry records it in the audit log).
func (s *Service) DeleteModel(ctx context.Context, cmd *spl.Deletemodel, _ search.RowIter, env *search.Env) (search.RowIter, error) {
	ref, err := toRef(cmd.Model)
	if err != nil {
		return nil, err
	}
	return func(yield func(*search.Row, error) bool) {
		if err := s.o.Models.Delete(ctx, ref); err != nil {
			yield(nil, err)
			return
		}
		env.Message("deleted model %s with all its versions", ref.Base())
		r := search.NewRow(2)
		r.Set("model", search.StrValue(ref.Base()))
		r.Set("deleted", search.StrValue("true"))
		yield(r, nil)
	}, nil
}
