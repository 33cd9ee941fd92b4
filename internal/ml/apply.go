package ml

import (
	"context"
	"fmt"
	"iter"
	"strings"

	"github.com/dockyard/dockyard/internal/containers"
	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/ml/algos"
	"github.com/dockyard/dockyard/internal/models"
	"github.com/dockyard/dockyard/internal/search"
	"github.com/dockyard/dockyard/internal/spl"
)

// Apply runs a model version on the incoming rows: the version's files are
// put into the container's model directory where it lacks them (from the
// central store), the notebook's load and apply run, and the predictions
// are merged into the rows.
func (s *Service) Apply(ctx context.Context, cmd *spl.Apply, in search.RowIter, env *search.Env) (search.RowIter, error) {
	ref, err := toRef(cmd.Model)
	if err != nil {
		return nil, err
	}
	return func(yield func(*search.Row, error) bool) {
		next, stop := iter.Pull2(in)
		defer stop()
		res, targets, shipped, err := s.apply(ctx, cmd, ref, next, env)
		if err != nil {
			yield(nil, err)
			return
		}
		if res == nil {
			return
		}
		defer res.remove()
		m := &merged{sp: res.sp, results: res.results, targets: targets, as: cmd.As, verbatim: shipped, onEnd: mismatch("apply", env)}
		m.rows(yield)
	}, nil
}

func (s *Service) apply(ctx context.Context, cmd *spl.Apply, ref models.Ref, next func() (*search.Row, error, bool), env *search.Env) (_ *jobResult, _ []string, shipped bool, err error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, nil, false, err
	}
	v, files, err := s.o.Models.Files(ctx, ref)
	if err != nil {
		return nil, nil, false, err
	}
	if v.Algo == "" {
		return nil, nil, false, errdefs.Invalidf("model %s version %d names no notebook (algo) to apply it with: import it again with --algo NOTEBOOK", ref.Base(), v.Version)
	}
	exact := ref
	exact.Version, exact.Alias = v.Version, ""
	in, err := peek(next)
	if err != nil {
		return nil, nil, false, err
	}
	targets := splitTargets(v.Lineage.Target)
	features := v.Lineage.Features
	if len(features) == 0 {
		features = []string{"*"} // an imported version: every field but the target
	}
	if len(in.peeked) == 0 {
		return nil, nil, false, nil // nothing to predict
	}
	cols, err := selectColumns(nil, features, in.peeked)
	if err != nil {
		return nil, nil, false, fmt.Errorf("apply %s: %w", ref.Base(), err)
	}
	if len(v.Lineage.Features) == 0 {
		for _, t := range targets {
			cols.Features = removeString(cols.Features, t)
		}
	}
	seed := seedResident(files)
	var h *containers.Handle
	if seed {
		h, err = s.seedContainer(ctx, p, cmd.Container, exact, v)
	} else {
		h, err = s.agentContainer(ctx, p, cmd.Container, ref, exact, v)
	}
	if err != nil {
		return nil, nil, false, err
	}
	nb := code{name: v.Algo}
	if !seed {
		if nb, err = s.versionCode(ctx, p, exact, v, env); err != nil {
			return nil, nil, false, err
		}
	}
	args := append([]string{}, cols.Features...)
	meta, err := buildMeta(metaInput{Algo: v.Algo, ModelName: v.Model, Params: optionsOf(v.Params, cmd.Params), Args: args,
		Columns: columns{Targets: targets, Features: cols.Features}, Limits: env.Limits})
	if err != nil {
		return nil, nil, false, err
	}
	unlock := s.lock(h)
	defer unlock()
	if !seed {
		if err := s.place(ctx, h, nb); err != nil {
			return nil, nil, false, err
		}
		if err := s.syncFiles(ctx, h, exact, v, files, env); err != nil {
			return nil, nil, false, err
		}
	}
	res, err := s.run(ctx, &job{op: "apply", h: h, code: nb, meta: meta, cols: cols, in: in, env: env, seed: seed})
	if err != nil {
		return nil, nil, false, err
	}
	if msg := missingMessage("apply", res.stats, cols.Names()); msg != "" {
		env.Message("%s", msg)
	}
	return res, targets, v.Lineage.Notebook == algos.Notebook, nil
}

// syncFiles makes the container's model directory hold the files of
// version v: each file the container lacks, or holds with other content,
// is written from the central store (verified by its SHA-256 on the
// agent's side). This is how a fresh container, or one that trained
// another version since, gets the version back.
func (s *Service) syncFiles(ctx context.Context, h *containers.Handle, exact models.Ref, v models.Version, files []models.File, env *search.Env) error {
	ag := h.Agent()
	have, err := ag.ModelFiles(ctx)
	if err != nil {
		return fmt.Errorf("model files in container %s: %w", containerName(h), err)
	}
	held := make(map[string]string, len(have))
	for _, f := range have {
		held[f.Path] = f.SHA256
	}
	n := 0
	for _, f := range files {
		want := strings.TrimPrefix(string(f.Digest), "sha256:")
		if held[f.Path] == want {
			continue
		}
		rc, err := s.o.Models.OpenFile(ctx, exact, f.Digest)
		if err != nil {
			return fmt.Errorf("model %s version %d: file %s: %w", exact.Base(), v.Version, f.Path, err)
		}
		_, err = ag.PutModelFile(ctx, f.Path, rc, want)
		rc.Close()
		if err != nil {
			return fmt.Errorf("model %s version %d: restoring %s into container %s: %w", exact.Base(), v.Version, f.Path, containerName(h), err)
		}
		n++
	}
	if n > 0 {
		env.Message("loaded %d model file(s) of %s version %d into container %s from the central store", n, exact.Base(), v.Version, containerName(h))
		s.o.Log.InfoContext(ctx, "model files restored into container", "model", exact.Base(), "version", v.Version, "container", containerName(h), "files", n)
	}
	return nil
}

func removeString(l []string, s string) []string {
	out := l[:0:0]
	for _, x := range l {
		if x != s {
			out = append(out, x)
		}
	}
	return out
}
