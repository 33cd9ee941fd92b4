package ml

import (
	"encoding/json"
	"slices"
	"strconv"

	"github.com/dockyard/dockyard/internal/search"
	"github.com/dockyard/dockyard/internal/spl"
)

// metaInput is what the notebook's param is built from.
type metaInput struct {
	Algo      string
	ModelName string
	Params    []spl.Option // every value stays a string, as typed
	Args      []string     // the fields as typed in the search (targets first)
	Columns   columns
	Limits    search.Limits
}

// buildMeta returns the DSDL param ("meta") a notebook receives, in the
// shape docs/design.md's section "Compatibility with the seed's system" gives:
//
//	{"options": {"params": {...strings...}, "args": [...], "feature_variables": [...],
//	  "target_variable": [...], "model_name": "...", "algo_name": "MLTKContainer",
//	  "mlspl_limits": {...}}, "feature_variables": [...], "target_variables": [...]}
func buildMeta(in metaInput) (json.RawMessage, error) {
	params := map[string]string{}
	for _, o := range in.Params {
		params[o.Key] = o.Value
	}
	params["algo"] = in.Algo
	targets := append([]string{}, in.Columns.Targets...)
	features := append([]string{}, in.Columns.Features...)
	args := append([]string{}, in.Args...)
	limits := map[string]string{
		"max_inputs":   strconv.Itoa(in.Limits.MaxRows),
		"max_fit_time": strconv.Itoa(int(in.Limits.MaxTime.Seconds())),
	}
	meta := map[string]any{
		"options": map[string]any{
			"params":            params,
			"args":              args,
			"feature_variables": features,
			"target_variable":   targets,
			"model_name":        in.ModelName,
			"algo_name":         "MLTKContainer",
			"mlspl_limits":      limits,
		},
		"feature_variables": features,
		"target_variables":  targets,
	}
	b, err := json.Marshal(meta)
	return b, err
}

// optionsOf turns a version's stored params back into options, sorted by
// key, with the apply's own options laid over them.
func optionsOf(stored map[string]string, over []spl.Option) []spl.Option {
	out := make([]spl.Option, 0, len(stored)+len(over))
	keys := make([]string, 0, len(stored))
	for k := range stored {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		out = append(out, spl.Option{Key: k, Value: stored[k]})
	}
	return append(out, over...)
}
