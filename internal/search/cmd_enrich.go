package search

import (
	"context"
	"math"
	"slices"

	"github.com/dockyard/dockyard/internal/spl"
)

// eventstats gathers the rows, aggregates them by group as stats does and
// adds each group's results to every row of the group, in input order.
type eventstats struct{ c *spl.Stats }

func (s eventstats) Run(_ context.Context, in RowIter, env *Env) (RowIter, error) {
	return func(yield func(*Row, error) bool) {
		rows, err := keepRows(in, env.mem())
		if err != nil {
			yield(nil, err)
			return
		}
		pl := newPlan(s.c.Aggs)
		groups := map[string]*group{}
		keys := make([]string, len(rows))
		var buf []byte
		for i, r := range rows {
			var ok bool
			if buf, ok = groupKey(s.c.By, r, buf); !ok {
				keys[i] = "\xff" // no group: left as it is
				continue
			}
			keys[i] = string(buf)
			g := groups[keys[i]]
			if g == nil {
				g = newGroup(pl, nil)
				groups[keys[i]] = g
			}
			g.add(pl, r)
		}
		results := map[string]*Row{}
		for k, g := range groups {
			out := NewRow(len(s.c.Aggs))
			g.set(pl, out, true)
			results[k] = out
		}
		for i, r := range rows {
			if res := results[keys[i]]; res != nil {
				for _, f := range res.Fields {
					r.Set(f.Name, f.Value)
				}
			}
			if !yield(r, nil) {
				return
			}
		}
	}, nil
}

// top counts combinations of its fields per by-group and keeps the most
// (rare: least) common, with their count and percentage of the group.
type top struct{ c *spl.Top }

type topCount struct {
	vals []Value
	n    int
}

func (t top) Run(_ context.Context, in RowIter, env *Env) (RowIter, error) {
	limit := optInt(t.c.Options, "limit", 10)
	countField := optStr(t.c.Options, "countfield", "count")
	percField := optStr(t.c.Options, "percentfield", "percent")
	showCount := optBool(t.c.Options, "showcount", true)
	showPerc := optBool(t.c.Options, "showperc", true)
	useOther := optBool(t.c.Options, "useother", false)
	otherStr := optStr(t.c.Options, "otherstr", "OTHER")
	return func(yield func(*Row, error) bool) {
		type byGroup struct {
			by     []Value
			counts map[string]*topCount
			total  int
		}
		groups := map[string]*byGroup{}
		var kb, vb []byte
		mem := env.mem()
		for r, err := range in {
			if err != nil {
				yield(nil, err)
				return
			}
			var ok bool
			if kb, ok = groupKey(t.c.By, r, kb); !ok {
				continue
			}
			if vb, ok = groupKey(t.c.Fields, r, vb); !ok {
				continue
			}
			g := groups[string(kb)]
			if g == nil {
				g = &byGroup{by: byValues(t.c.By, r), counts: map[string]*topCount{}}
				groups[string(kb)] = g
			}
			tc := g.counts[string(vb)]
			if tc == nil {
				if err := mem.charge(int64(2*len(vb) + 64)); err != nil {
					yield(nil, err)
					return
				}
				tc = &topCount{vals: byValues(t.c.Fields, r)}
				g.counts[string(vb)] = tc
			}
			tc.n++
			g.total++
		}
		list := make([]*byGroup, 0, len(groups))
		for _, g := range groups {
			list = append(list, g)
		}
		slices.SortFunc(list, func(a, b *byGroup) int { return compareValues(a.by, b.by) })
		for _, g := range list {
			cs := make([]*topCount, 0, len(g.counts))
			for _, c := range g.counts {
				cs = append(cs, c)
			}
			slices.SortFunc(cs, func(a, b *topCount) int {
				d := b.n - a.n
				if t.c.Rare {
					d = -d
				}
				if d != 0 {
					return d
				}
				return compareValues(a.vals, b.vals)
			})
			other := 0
			if limit > 0 && len(cs) > limit {
				for _, c := range cs[limit:] {
					other += c.n
				}
				cs = cs[:limit]
			}
			if useOther && other > 0 {
				vals := make([]Value, len(t.c.Fields))
				for i := range vals {
					vals[i] = StrValue(otherStr)
				}
				cs = append(cs, &topCount{vals: vals, n: other})
			}
			for _, c := range cs {
				out := NewRow(len(t.c.By) + len(t.c.Fields) + 2)
				for i, f := range t.c.By {
					out.Set(f, g.by[i])
				}
				for i, f := range t.c.Fields {
					out.Set(f, c.vals[i])
				}
				if showCount {
					out.Set(countField, NumValue(float64(c.n)))
				}
				if showPerc {
					p := float64(c.n) * 100 / float64(g.total)
					out.Set(percField, NumValue(math.Round(p*1e6)/1e6))
				}
				if !yield(out, nil) {
					return
				}
			}
		}
	}, nil
}

func compareValues(a, b []Value) int {
	for i := range a {
		if c := Compare(a[i], b[i]); c != 0 {
			return c
		}
	}
	return 0
}
