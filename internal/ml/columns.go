package ml

import (
	"fmt"
	"slices"
	"strings"

	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/search"
)

// peekRows is how many rows are read before anything is sent, to expand
// the feature wildcards and check that the named fields exist.
const peekRows = 1000

// columns are the fields sent to a notebook: the targets (if any) first,
// in the order typed, then the features.
type columns struct {
	Targets  []string
	Features []string
}

// Names returns the CSV header: the targets first, then the features.
func (c columns) Names() []string {
	return append(append([]string{}, c.Targets...), c.Features...)
}

// joinTargets is how a version's lineage records its targets: comma-joined,
// as the features are listed (a model from before several targets has one).
func joinTargets(targets []string) string { return strings.Join(targets, ",") }

// splitTargets reads a lineage target back into the targets.
func splitTargets(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

// selectColumns expands the feature patterns (* wildcards allowed) against
// the fields of the first rows, in first-seen order. Wildcards skip the
// targets and internal fields (those starting with "_"); a field named
// without a wildcard must appear in the rows.
func selectColumns(targets []string, patterns []string, rows []*search.Row) (columns, error) {
	seen := search.FieldsOf(rows)
	has := func(name string) bool { return slices.Contains(seen, name) }
	c := columns{}
	added := map[string]bool{}
	for _, t := range targets {
		if !has(t) {
			return columns{}, errdefs.Invalidf("the target field %q is not in the rows the fit receives (fields: %s): check its name", t, list(seen))
		}
		if strings.Contains(t, ",") {
			return columns{}, errdefs.Invalidf("the target field %q has a comma in its name, which a model's lineage cannot record: rename it with rename first", t)
		}
		if added[t] {
			return columns{}, errdefs.Invalidf("the target field %q is named twice before from: name each target once", t)
		}
		added[t] = true
		c.Targets = append(c.Targets, t)
	}
	for _, pat := range patterns {
		if !strings.Contains(pat, "*") {
			if !has(pat) {
				return columns{}, errdefs.Invalidf("the feature field %q is not in the rows (fields: %s): check its name", pat, list(seen))
			}
			if !added[pat] {
				added[pat] = true
				c.Features = append(c.Features, pat)
			}
			continue
		}
		n := 0
		for _, f := range seen {
			if strings.HasPrefix(f, "_") || added[f] || !search.WildcardMatch(pat, f) {
				continue
			}
			added[f] = true
			c.Features = append(c.Features, f)
			n++
		}
		if n == 0 && !slices.ContainsFunc(seen, func(f string) bool { return search.WildcardMatch(pat, f) }) {
			return columns{}, errdefs.Invalidf("the feature pattern %q matches no field of the rows (fields: %s)", pat, list(seen))
		}
	}
	if len(c.Features) == 0 {
		return columns{}, errdefs.Invalid("no feature fields are left to send: name at least one field besides the targets")
	}
	return c, nil
}

func list(fields []string) string {
	if len(fields) == 0 {
		return "none"
	}
	const max = 20
	if len(fields) > max {
		return strings.Join(fields[:max], ", ") + fmt.Sprintf(" and %d more", len(fields)-max)
	}
	return strings.Join(fields, ", ")
}
