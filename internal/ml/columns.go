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

// columns are the fields sent to a notebook: the target (if any) first,
// then the features.
type columns struct {
	Target   string
	Features []string
}

// Names returns the CSV header: target first, then the features.
func (c columns) Names() []string {
	if c.Target == "" {
		return c.Features
	}
	return append([]string{c.Target}, c.Features...)
}

// selectColumns expands the feature patterns (* wildcards allowed) against
// the fields of the first rows, in first-seen order. Wildcards skip the
// target and internal fields (those starting with "_"); a field named
// without a wildcard must appear in the rows.
func selectColumns(target string, patterns []string, rows []*search.Row) (columns, error) {
	seen := search.FieldsOf(rows)
	has := func(name string) bool { return slices.Contains(seen, name) }
	if target != "" && !has(target) {
		return columns{}, errdefs.Invalid(fmt.Sprintf("the target field %q is not in the rows the fit receives (fields: %s): check its name", target, list(seen)))
	}
	c := columns{Target: target}
	added := map[string]bool{target: target != ""}
	for _, pat := range patterns {
		if !strings.Contains(pat, "*") {
			if !has(pat) {
				return columns{}, errdefs.Invalid(fmt.Sprintf("the feature field %q is not in the rows (fields: %s): check its name", pat, list(seen)))
			}
			if !added[pat] {
				added[pat] = true
				c.Features = append(c.Features, pat)
			}
			continue
		}
		n := 0
		for _, f := range seen {
			if strings.HasPrefix(f, "_") || added[f] || !wildcardMatch(pat, f) {
				continue
			}
			added[f] = true
			c.Features = append(c.Features, f)
			n++
		}
		if n == 0 && !slices.ContainsFunc(seen, func(f string) bool { return wildcardMatch(pat, f) }) {
			return columns{}, errdefs.Invalid(fmt.Sprintf("the feature pattern %q matches no field of the rows (fields: %s)", pat, list(seen)))
		}
	}
	if len(c.Features) == 0 {
		return columns{}, errdefs.Invalid("no feature fields are left to send: name at least one field besides the target")
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

// wildcardMatch matches s against pat, whose * matches any run of
// characters.
func wildcardMatch(pat, s string) bool {
	parts := strings.Split(pat, "*")
	if len(parts) == 1 {
		return pat == s
	}
	if !strings.HasPrefix(s, parts[0]) {
		return false
	}
	s = s[len(parts[0]):]
	last := parts[len(parts)-1]
	for _, p := range parts[1 : len(parts)-1] {
		i := strings.Index(s, p)
		if i < 0 {
			return false
		}
		s = s[i+len(p):]
	}
	return strings.HasSuffix(s, last) && len(s) >= len(last)
}
