package ml

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"slices"

	"github.com/dockyard/dockyard/internal/access"
	"github.com/dockyard/dockyard/internal/agent"
	"github.com/dockyard/dockyard/internal/agent/agentclient"
	"github.com/dockyard/dockyard/internal/blob"
	"github.com/dockyard/dockyard/internal/containers"
	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/models"
	"github.com/dockyard/dockyard/internal/search"
)

// The seed system's own containers, registered as external containers,
// speak only the seed's container API (POST /fit, POST /apply, GET
// /summary; CSV inside JSON), not the Dockyard agent's. Dockyard detects
// that (GET /v1/info is unknown there), runs the notebook the container
// itself holds (no notebook placement, no model file sync: the container
// has no endpoints for either) and registers a version whose one file is
// a manifest saying the model lives in that container; apply and summary
// of the version are sent back to it.

// seedManifest is the file of a version whose model lives in a seed
// container.
const seedManifest = "seed-container-model.json"

// seedModel is the manifest's content.
type seedModel struct {
	API       string `json:"api"` // "seed"
	Container string `json:"container"`
	Endpoint  string `json:"endpoint"`
	Algo      string `json:"algo"`
	ModelName string `json:"model_name"`
	SaveName  string `json:"save_name"`
}

// speaksSeed reports whether h is an external container that speaks only
// the seed's container API.
func speaksSeed(ctx context.Context, h *containers.Handle) (bool, error) {
	if h.Runtime != containers.RuntimeExternal {
		return false, nil
	}
	ok, err := h.Agent().SupportsAgentAPI(ctx)
	if err != nil {
		return false, fmt.Errorf("container %s: finding out which API it speaks: %w", containerName(h), err)
	}
	return !ok, nil
}

// seedResident reports whether a version's model lives in a seed
// container (its one file is the manifest).
func seedResident(files []models.File) bool {
	return len(files) == 1 && files[0].Path == seedManifest
}

// seedFile is the manifest of a model fitted in the seed container h.
func seedFile(h *containers.Handle, algo, modelName string) (models.File, error) {
	b, err := json.MarshalIndent(seedModel{API: "seed", Container: containerName(h), Endpoint: h.Endpoint,
		Algo: algo, ModelName: modelName, SaveName: algo + "_" + modelName}, "", "  ")
	if err != nil {
		return models.File{}, err
	}
	return models.File{Path: seedManifest, Size: int64(len(b)), Digest: blob.FromBytes(b), Reader: bytes.NewReader(b)}, nil
}

// seedContainer is the container an apply or summary of a version living
// in a seed container runs in: the one named (which must be a seed
// container), else the one the version's lineage names.
func (s *Service) seedContainer(ctx context.Context, p *access.Principal, named string, exact models.Ref, v models.Version) (*containers.Handle, error) {
	name := named
	if name == "" {
		name = v.Lineage.Container
	}
	h, err := s.o.Containers.Ensure(ctx, p, name, containers.EnsureOptions{})
	if err != nil {
		return nil, fmt.Errorf("model %s version %d lives in container %s: %w", exact.Base(), v.Version, name, err)
	}
	seed, err := speaksSeed(ctx, h)
	if err != nil {
		return nil, err
	}
	if !seed {
		return nil, errdefs.Invalidf("model %s version %d lives in container %s, which speaks the seed's container API (its files are there, not in Dockyard), "+
			"and container %s is not such a container: leave out container= to run it in %s", exact.Base(), v.Version, v.Lineage.Container, containerName(h), v.Lineage.Container)
	}
	return h, nil
}

// agentContainer is the container an apply or summary of a version whose
// files Dockyard holds runs in; a seed container cannot take them.
func (s *Service) agentContainer(ctx context.Context, p *access.Principal, named string, ref, exact models.Ref, v models.Version) (*containers.Handle, error) {
	h, err := s.container(ctx, p, named, ref, true)
	if err != nil {
		return nil, err
	}
	seed, err := speaksSeed(ctx, h)
	if err != nil {
		return nil, err
	}
	if seed {
		return nil, errdefs.Invalidf("container %s speaks only the seed's container API, which has no way to receive the files of model %s version %d: "+
			"apply it in a Dockyard container (leave out container=); a seed container runs only the models fitted in it", containerName(h), exact.Base(), v.Version)
	}
	return h, nil
}

// runSeed is run for a seed container: the rows go as one CSV string in
// {"data", "meta"} to POST /fit or /apply (spooled on the way, to merge
// the results with), and the answer's results CSV becomes the results.
func (s *Service) runSeed(ctx context.Context, j *job) (_ *jobResult, err error) {
	sp, err := newSpool(s.o.TempDir)
	if err != nil {
		return nil, err
	}
	res := &jobResult{sp: sp}
	defer func() {
		if err != nil {
			res.remove()
		}
	}()
	var data bytes.Buffer
	res.stats, err = feed(&data, j.in.rows, j.cols.Names(), sp)
	if err != nil {
		return nil, err
	}
	name := containerName(j.h)
	start := s.o.Now()
	var ans agentclient.Answer
	if j.op == "fit" {
		ans, err = j.h.Agent().Fit(ctx, j.meta, data.String())
	} else {
		ans, err = j.h.Agent().Apply(ctx, j.meta, data.String())
	}
	res.duration = s.o.Now().Sub(start)
	if err != nil {
		return nil, fmt.Errorf("%s in container %s: %w", j.op, name, err)
	}
	f, err := os.CreateTemp(s.o.TempDir, "dockyard-results-*.csv")
	if err != nil {
		return nil, fmt.Errorf("results file: %w", err)
	}
	res.results = f.Name()
	_, werr := f.WriteString(ans.Results)
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		return nil, fmt.Errorf("%s: keeping the results: %w", j.op, werr)
	}
	res.done = agent.Frame{Type: "done", Status: ans.Status, Message: ans.Message}
	switch ans.Status {
	case "success", "staged":
		return res, nil
	case "error":
		return nil, notebookError(j.op, j.code.name, name, ans.Message)
	}
	return nil, errdefs.Unavailablef("%s in container %s: it answered status %q: %s", j.op, name, ans.Status, ans.Message)
}

// seedSummary is the seed container's own summary (of the model it has
// loaded last: its API has no way to name one), as notebook.* keys.
func (s *Service) seedSummary(ctx context.Context, h *containers.Handle) ([]kv, error) {
	doc, err := h.Agent().SeedSummary(ctx)
	if err != nil {
		return nil, err
	}
	keys := make([]string, 0, len(doc))
	for k := range doc {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var out []kv
	for _, k := range keys {
		flatten("notebook."+k, doc[k], &out)
	}
	return out, nil
}

// seedResidentSummary is the notebook part of the summary of a version
// that lives in a seed container (ok false: the version does not). The
// container's refusal fails the summary only when it was named.
func (s *Service) seedResidentSummary(ctx context.Context, p *access.Principal, ref models.Ref, sum models.Summary, named string, env *search.Env) (_ []kv, ok bool, _ error) {
	exact := ref
	exact.Version, exact.Alias = sum.Version, ""
	v, files, err := s.o.Models.Files(ctx, exact)
	if err != nil || !seedResident(files) {
		return nil, false, nil
	}
	h, err := s.seedContainer(ctx, p, named, exact, v)
	if err == nil {
		var out []kv
		if out, err = s.seedSummary(ctx, h); err == nil {
			env.Message("summary: model %s version %d lives in container %s, which speaks only the seed's container API: its summary (notebook.*) describes the model it has loaded last, as that API names none",
				exact.Base(), v.Version, containerName(h))
			return out, true, nil
		}
	}
	if named != "" {
		return nil, true, err
	}
	env.Message("summary: the notebook's own summary is not available: %s", firstLine(err.Error()))
	return nil, true, nil
}
