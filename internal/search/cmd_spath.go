package search

import (
	"context"
	"sort"

	"github.com/dockyard/dockyard/internal/spl"
)

// spathCmd is spath: with a path, the value at it (a multivalue where {}
// takes every element) goes to output= (default: the path itself); without
// one, every leaf of the document becomes a field named by its path (a.b,
// a{} for an array's elements, which gather as a multivalue). The document
// is input= (default _raw). A row whose input is missing or not JSON passes
// unchanged.
type spathCmd struct{ c *spl.Spath }

func (s spathCmd) Run(_ context.Context, in RowIter, _ *Env) (RowIter, error) {
	input := optStr(s.c.Options, "input", "_raw")
	path := s.c.Path
	if p, ok := spl.OptionValue(s.c.Options, "path"); ok {
		path = p
	}
	output := optStr(s.c.Options, "output", path)
	return streamFn(in, func(r *Row) (*Row, bool) {
		doc := r.Get(input)
		if path != "" {
			if v := spathValue(doc, path); !v.IsNull() {
				r.Set(output, v)
			}
			return r, true
		}
		x, ok := decodeJSON(doc)
		if !ok {
			return r, true
		}
		leaves := map[string][]string{}
		var order []string
		jsonLeaves(x, "", func(name, val string) {
			if _, seen := leaves[name]; !seen {
				order = append(order, name)
			}
			leaves[name] = append(leaves[name], val)
		})
		for _, name := range order {
			vs := leaves[name]
			if len(vs) == 1 {
				r.Set(name, StrValue(vs[0]))
			} else {
				r.Set(name, MultiValue(vs))
			}
		}
		return r, true
	}), nil
}

// jsonLeaves calls leaf for every string, number and boolean in x, named
// by its path from prefix; objects' keys in sorted order, arrays as {}.
func jsonLeaves(x any, prefix string, leaf func(name, val string)) {
	switch x := x.(type) {
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			name := k
			if prefix != "" {
				name = prefix + "." + k
			}
			jsonLeaves(x[k], name, leaf)
		}
	case []any:
		for _, e := range x {
			jsonLeaves(e, prefix+"{}", leaf)
		}
	case nil:
	case string:
		if prefix != "" {
			leaf(prefix, x)
		}
	default:
		if prefix != "" {
			leaf(prefix, jsonText(x).String())
		}
	}
}
