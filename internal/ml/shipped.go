package ml

import (
	"strings"

	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/ml/algos"
	"github.com/dockyard/dockyard/internal/spl"
	"github.com/dockyard/dockyard/internal/store"
)

// fitAlgo resolves what a fit runs: fit MLTKContainer algo=NOTEBOOK runs
// the caller's notebook; fit NAME, with NAME one of the Machine Learning
// Toolkit's algorithm names (StandardScaler, KMeans, ...), runs the
// notebook Dockyard ships for them (internal/ml/algos) with NAME as its
// algo. algo is the name the model version records; shipped says which.
func fitAlgo(cmd *spl.Fit) (algo string, shipped bool, err error) {
	if strings.EqualFold(cmd.Algorithm, "MLTKContainer") {
		return cmd.Algo, false, nil
	}
	name, ok := algos.Lookup(cmd.Algorithm)
	if !ok {
		return "", false, errdefs.Invalidf("fit %s is not available: Dockyard runs the MLTK algorithms %s, "+
			"or your own notebook with fit MLTKContainer algo=NOTEBOOK ...", cmd.Algorithm, strings.Join(algos.Names(), ", "))
	}
	if cmd.Algo != "" && !strings.EqualFold(cmd.Algo, name) {
		return "", false, errdefs.Invalidf("fit %s runs Dockyard's shipped %s, so algo=%s does not apply: "+
			"to run your notebook %s write fit MLTKContainer algo=%s ...", cmd.Algorithm, name, cmd.Algo, cmd.Algo, cmd.Algo)
	}
	if len(cmd.Targets) > 1 {
		return "", false, errdefs.Invalidf("fit %s takes one target before from, not %d: name one, or run your own notebook with fit MLTKContainer algo=NOTEBOOK %s from ...",
			cmd.Algorithm, len(cmd.Targets), strings.Join(cmd.Targets, " "))
	}
	return name, true, nil
}

// shippedCode is the notebook Dockyard ships for the MLTK algorithm names,
// run through the same pinned path as a user's notebook: the lineage of
// what it trains records its digest, and apply runs the content with
// that digest.
func shippedCode() code {
	return code{name: algos.Notebook, content: algos.Source, v: store.NotebookVersion{
		Format: algos.Format, Digest: algos.Digest(), Size: int64(len(algos.Source)),
	}}
}

// shippedByDigest is the shipped notebook when digest is its digest.
func shippedByDigest(digest string) (code, bool) {
	if _, ok := algos.ByDigest(digest); !ok {
		return code{}, false
	}
	return shippedCode(), true
}
