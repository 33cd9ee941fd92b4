package search

import (
	"context"
	"math"
	"slices"
	"strings"

	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/spl"
)

type timechart struct {
	c       *spl.Timechart
	sp      span
	hasSpan bool
	bins    int // the most buckets without span=
}

// maxBuckets bounds the time buckets of one timechart when search.max_rows
// does not.
const maxBuckets = 1_000_000

func compileTimechart(c *spl.Timechart) (Command, error) {
	sp, ok, err := spanOption(c.Options, c.Pos)
	if err != nil {
		return nil, err
	}
	if c.By != "" {
		for _, a := range c.Aggs {
			if strings.Contains(a.Field, "*") {
				return nil, spl.Errorf(a.Pos, "timechart with by takes no wildcard fields: name the field, or drop by")
			}
		}
	}
	return timechart{c: c, sp: sp, hasSpan: ok, bins: binsOption(c.Options)}, nil
}

// tcRow is what timechart keeps of an input row: its time, its series and
// the fields its aggregations read.
type tcRow struct {
	t      float64
	series string
	r      *Row
}

func (tc timechart) Run(_ context.Context, in RowIter, env *Env) (RowIter, error) {
	return func(yield func(*Row, error) bool) {
		rows, err := tc.keep(in, env)
		if err != nil {
			yield(nil, err)
			return
		}
		if len(rows) == 0 {
			return
		}
		lo, hi := rows[0].t, rows[0].t
		for _, r := range rows {
			lo, hi = math.Min(lo, r.t), math.Max(hi, r.t)
		}
		sp := tc.sp
		if !tc.hasSpan {
			sp = autoSpan(lo, hi, tc.bins)
			env.Message("timechart: span=%s%s (give span= to choose another)", formatNum(sp.n), sp.unit)
		}
		series := tc.topSeries(rows, sp)
		pl := newPlan(tc.c.Aggs)
		groups := map[float64]map[string]*group{}
		for _, r := range rows {
			b := sp.floorTime(r.t)
			s := r.series
			if tc.c.By != "" && !series[s] {
				s = "OTHER"
			}
			if groups[b] == nil {
				groups[b] = map[string]*group{}
			}
			g := groups[b][s]
			if g == nil {
				g = newGroup(pl, nil)
				groups[b][s] = g
			}
			g.add(pl, r.r)
		}
		cols := tc.columns(groups)
		max := env.Limits.MaxRows
		if max <= 0 {
			max = maxBuckets
		}
		n := 0
		for b := sp.floorTime(lo); b <= hi; b = sp.nextTime(b) {
			if n++; n > max {
				yield(nil, errdefs.Limitf("search stopped: timechart needs more than %d time buckets, the row limit (search.max_rows): use a larger span=", max))
				return
			}
			out := NewRow(1 + len(cols))
			out.Fields = append(out.Fields, Field{Name: "_time", Value: NumValue(b)})
			tc.fill(out, pl, groups[b], cols)
			if !yield(out, nil) {
				return
			}
		}
	}, nil
}

// keep gathers the rows with a _time, keeping only the fields needed.
func (tc timechart) keep(in RowIter, env *Env) ([]tcRow, error) {
	var out []tcRow
	mem := env.mem()
	for r, err := range in {
		if err != nil {
			return nil, err
		}
		t, ok := r.Get("_time").Number()
		if !ok {
			continue
		}
		k := NewRow(len(tc.c.Aggs))
		for _, a := range tc.c.Aggs {
			for _, f := range r.Fields {
				if a.Field != "" && wildcardMatch(a.Field, f.Name, false) && !k.Has(f.Name) {
					k.Fields = append(k.Fields, f)
				}
			}
		}
		s := "NULL"
		if tc.c.By != "" {
			if v := r.Get(tc.c.By); !v.IsNull() {
				s = v.String()
			}
		}
		if err := mem.charge(rowSize(k) + int64(len(s)) + 32); err != nil {
			return nil, err
		}
		out = append(out, tcRow{t: t, series: s, r: k})
	}
	return out, nil
}

// topSeries returns the series shown in their own columns: all of them,
// or with limit=N (default 10) the N whose first aggregation sums highest
// over all buckets; the others go to OTHER unless useother=false drops them.
func (tc timechart) topSeries(rows []tcRow, sp span) map[string]bool {
	if tc.c.By == "" {
		return nil
	}
	pl := newPlan(tc.c.Aggs[:1])
	groups := map[string]map[float64]*group{}
	for _, r := range rows {
		if groups[r.series] == nil {
			groups[r.series] = map[float64]*group{}
		}
		b := sp.floorTime(r.t)
		g := groups[r.series][b]
		if g == nil {
			g = newGroup(pl, nil)
			groups[r.series][b] = g
		}
		g.add(pl, r.r)
	}
	limit := optInt(tc.c.Options, "limit", 10)
	names := make([]string, 0, len(groups))
	score := map[string]float64{}
	for s, bs := range groups {
		names = append(names, s)
		for _, g := range bs {
			if n, ok := g.aggs[0].result().Number(); ok {
				score[s] += n
			}
		}
	}
	keep := map[string]bool{}
	if limit <= 0 || len(names) <= limit {
		for _, s := range names {
			keep[s] = true
		}
		return keep
	}
	slices.SortFunc(names, func(a, b string) int {
		if c := -cmpFloat(score[a], score[b]); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
	for _, s := range names[:limit] {
		keep[s] = true
	}
	return keep
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// columns lists the series columns: by value, NULL and OTHER last.
func (tc timechart) columns(groups map[float64]map[string]*group) []string {
	if tc.c.By == "" {
		return nil
	}
	seen := map[string]bool{}
	var cols []string
	for _, bs := range groups {
		for s := range bs {
			if !seen[s] {
				seen[s] = true
				cols = append(cols, s)
			}
		}
	}
	sortSeries(cols)
	return cols
}

// sortSeries sorts series (column) names by value, NULL and OTHER last,
// as timechart and chart show them.
func sortSeries(cols []string) {
	rank := func(s string) int {
		switch s {
		case "NULL":
			return 1
		case "OTHER":
			return 2
		}
		return 0
	}
	slices.SortFunc(cols, func(a, b string) int {
		if c := rank(a) - rank(b); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
}

// fill writes one bucket's cells; an empty bucket counts 0 and has no
// other values.
func (tc timechart) fill(out *Row, pl *aggPlan, gs map[string]*group, cols []string) {
	if tc.c.By == "" {
		g := gs["NULL"]
		if g == nil {
			g = newGroup(pl, nil)
		}
		g.set(pl, out, false)
		fillCounts(out, pl)
		return
	}
	for _, s := range cols {
		g := gs[s]
		if s == "OTHER" && !optBool(tc.c.Options, "useother", true) {
			continue
		}
		setSeries(out, tc.c.Aggs, s, g)
	}
}

// setSeries sets the cells of series s from its group g (nil: no rows):
// one per aggregation, named s, or AGG: s with several; empty counts are 0.
func setSeries(out *Row, aggs []spl.Agg, s string, g *group) {
	for i, a := range aggs {
		name := s
		if len(aggs) > 1 {
			name = a.OutName() + ": " + s
		}
		v := NullValue
		if g != nil {
			v = g.aggs[i].result()
		}
		if v.IsNull() && isCount(a.Func) {
			v = NumValue(0)
		}
		out.Set(name, v)
	}
}

func isCount(fn string) bool {
	return fn == "count" || fn == "c" || fn == "dc" || fn == "distinct_count"
}

func fillCounts(out *Row, pl *aggPlan) {
	for _, a := range pl.aggs {
		if isCount(a.Func) && !strings.Contains(a.Field, "*") && out.Get(a.OutName()).IsNull() {
			out.Set(a.OutName(), NumValue(0))
		}
	}
}
