package search

import (
	"context"
	"fmt"
	"strings"

	"github.com/dockyard/dockyard/internal/spl"
)

// Subsearches among search terms (`index=web [search index=auth action=fail
// | fields user]`): each runs to the end before the outer search reads a
// row (within search.subsearch_max_rows and search.subsearch_max_time, as
// append's), and its rows become terms as Splunk's implicit `format` makes
// them: each row's fields field="value" ANDed (a multivalue field's values
// ORed), the rows ORed. A field named search or query is search text
// itself. Fields whose names start with _ are left out. No rows match
// nothing.

// subsearchPred is the predicate of a SearchSub: what its rows became when
// the run prepared it (prepareSubs), read from the run's timeBounds.
func subsearchPred(e *spl.SearchSub) (pred, error) {
	if _, err := compileSub(e.Sub.Pipeline, true); err != nil {
		return nil, err
	}
	return func(r *Row, t *timeBounds) bool {
		p := t.subs[e]
		return p != nil && p(r, t)
	}, nil
}

// prepareSubs runs the subsearches of e and keeps in t the predicates
// their rows make.
func prepareSubs(ctx context.Context, env *Env, e spl.SearchExpr, t *timeBounds) error {
	for _, s := range subsOf(e) {
		cmds, err := compileSub(s.Sub.Pipeline, true)
		if err != nil {
			return err
		}
		rows, err := runSub(ctx, env, "subsearch", nil, cmds, nil)
		if err != nil {
			return err
		}
		x, err := formatRows(rows)
		if err != nil {
			return spl.Errorf(s.Pos, "subsearch: %v", err)
		}
		if x == nil {
			// No predicate: subsearchPred matches nothing.
			env.Message("subsearch at %s returned no rows: its terms match nothing", s.Pos)
			continue
		}
		p, err := compileSearchExpr(x)
		if err != nil {
			return spl.Errorf(s.Pos, "subsearch: %v", err)
		}
		if t.subs == nil {
			t.subs = map[*spl.SearchSub]pred{}
		}
		t.subs[s] = p
	}
	return nil
}

// subsOf returns the subsearches among the terms of e.
func subsOf(e spl.SearchExpr) []*spl.SearchSub {
	var subs []*spl.SearchSub
	walkSearch(e, func(x spl.SearchExpr) {
		if s, ok := x.(*spl.SearchSub); ok {
			subs = append(subs, s)
		}
	})
	return subs
}

// walkSearch calls f on e and every expression inside it.
func walkSearch(e spl.SearchExpr, f func(spl.SearchExpr)) {
	if e == nil {
		return
	}
	f(e)
	switch e := e.(type) {
	case *spl.SearchAnd:
		for _, x := range e.Terms {
			walkSearch(x, f)
		}
	case *spl.SearchOr:
		for _, x := range e.Terms {
			walkSearch(x, f)
		}
	case *spl.SearchNot:
		walkSearch(e.X, f)
	case *spl.SearchGroup:
		walkSearch(e.X, f)
	}
}

// formatRows makes the terms of a subsearch's rows; nil when there are
// none.
func formatRows(rows []*Row) (spl.SearchExpr, error) {
	var or []spl.SearchExpr
	for _, r := range rows {
		var and []spl.SearchExpr
		for _, f := range r.Fields {
			if strings.HasPrefix(f.Name, "_") || f.Value.IsNull() {
				continue
			}
			var alts []spl.SearchExpr
			for _, v := range f.Value.Values() {
				if name := strings.ToLower(f.Name); name == "search" || name == "query" {
					x, err := searchText(v)
					if err != nil {
						return nil, err
					}
					if x != nil {
						alts = append(alts, &spl.SearchGroup{X: x})
					}
					continue
				}
				alts = append(alts, &spl.Compare{Field: f.Name, Op: "=", Value: v, Quoted: true})
			}
			switch len(alts) {
			case 0:
			case 1:
				and = append(and, alts[0])
			default:
				and = append(and, &spl.SearchGroup{X: &spl.SearchOr{Terms: alts}})
			}
		}
		switch len(and) {
		case 0:
		case 1:
			or = append(or, and[0])
		default:
			or = append(or, &spl.SearchGroup{X: &spl.SearchAnd{Terms: and}})
		}
	}
	switch len(or) {
	case 0:
		return nil, nil
	case 1:
		return or[0], nil
	}
	return &spl.SearchOr{Terms: or}, nil
}

// searchText parses the value of a search or query field as search terms.
func searchText(v string) (spl.SearchExpr, error) {
	pl, err := spl.Parse("search " + v)
	if err != nil {
		return nil, err
	}
	s, ok := pl.Commands[0].(*spl.Search)
	if !ok || len(pl.Commands) != 1 || len(subsOf(s.Expr)) > 0 {
		return nil, fmt.Errorf("its search field %q is not plain search terms: give terms without pipes or subsearches, such as host=web* status=404", v)
	}
	return s.Expr, nil
}
