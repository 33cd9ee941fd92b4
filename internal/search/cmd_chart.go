package search

import (
	"context"
	"slices"
	"strings"

	"github.com/dockyard/dockyard/internal/spl"
)

// chart is chart: the rows grouped by the row field (Over) and, given By,
// the column field; one output row per row-field value, in value order,
// with the aggregations as columns, or, given By, a column per By value
// (AGG: value with several aggregations). With limit=N (default 10; 0
// for all) only the N columns whose first aggregation sums highest keep
// their own; the rest are OTHER (dropped with useother=false). Rows without
// the row field are left out; those without the column field go to NULL
// (dropped with usenull=false). Empty cells of counts are 0.
type chart struct{ c *spl.Chart }

func compileChart(c *spl.Chart) (Command, error) {
	for _, a := range c.Aggs {
		if strings.Contains(a.Field, "*") {
			return nil, spl.Errorf(a.Pos, "chart takes no wildcard fields: name the field")
		}
	}
	return chart{c}, nil
}

// chartCell is a (row value, column value) pair.
type chartCell struct{ row, col string }

func (ch chart) Run(_ context.Context, in RowIter, env *Env) (RowIter, error) {
	return func(yield func(*Row, error) bool) {
		rows, err := keepRows(in, env.mem())
		if err != nil {
			yield(nil, err)
			return
		}
		usenull := optBool(ch.c.Options, "usenull", true)
		useother := optBool(ch.c.Options, "useother", true)
		rowVals := map[string]Value{}
		keys := make([]chartCell, len(rows))
		skip := make([]bool, len(rows))
		// The column of each row; the first aggregation per column ranks them.
		first := newPlan(ch.c.Aggs[:1])
		firstGroups := map[string]*group{}
		for i, r := range rows {
			if ch.c.Over != "" {
				v := r.Get(ch.c.Over)
				if v.IsNull() {
					skip[i] = true
					continue
				}
				keys[i].row = v.String()
				if _, ok := rowVals[keys[i].row]; !ok {
					rowVals[keys[i].row] = v
				}
			}
			if ch.c.By != "" {
				v := r.Get(ch.c.By)
				if v.IsNull() && !usenull {
					skip[i] = true
					continue
				}
				keys[i].col = "NULL"
				if !v.IsNull() {
					keys[i].col = v.String()
				}
				g := firstGroups[keys[i].col]
				if g == nil {
					g = newGroup(first, nil)
					firstGroups[keys[i].col] = g
				}
				g.add(first, r)
			}
		}
		cols, other := ch.columns(firstGroups, useother)
		pl := newPlan(ch.c.Aggs)
		pl.mem = env.mem()
		groups := map[chartCell]*group{}
		for i, r := range rows {
			if skip[i] {
				continue
			}
			k := keys[i]
			if other[k.col] {
				if !useother {
					continue
				}
				k.col = "OTHER"
			}
			g := groups[k]
			if g == nil {
				g = newGroup(pl, nil)
				groups[k] = g
			}
			g.add(pl, r)
			if pl.err != nil {
				yield(nil, pl.err)
				return
			}
		}
		order := make([]string, 0, len(rowVals))
		for k := range rowVals {
			order = append(order, k)
		}
		slices.SortFunc(order, func(a, b string) int { return Compare(rowVals[a], rowVals[b]) })
		if ch.c.Over == "" {
			order = []string{""}
		}
		for _, rk := range order {
			out := NewRow(1 + len(cols)*len(ch.c.Aggs))
			if ch.c.Over != "" {
				out.Fields = append(out.Fields, Field{Name: ch.c.Over, Value: rowVals[rk]})
			}
			if ch.c.By == "" {
				g := groups[chartCell{row: rk}]
				if g == nil {
					g = newGroup(pl, nil)
				}
				g.set(pl, out, false)
				fillCounts(out, pl)
			}
			for _, c := range cols {
				setSeries(out, ch.c.Aggs, c, groups[chartCell{row: rk, col: c}])
			}
			if !yield(out, nil) {
				return
			}
		}
	}, nil
}

// columns returns the column values shown, by value with NULL and OTHER
// last, and those folded into OTHER: past limit=, the ones whose first
// aggregation sums lowest.
func (ch chart) columns(firstGroups map[string]*group, useother bool) ([]string, map[string]bool) {
	if ch.c.By == "" {
		return nil, nil
	}
	score := map[string]float64{}
	cols := make([]string, 0, len(firstGroups))
	for c, g := range firstGroups {
		cols = append(cols, c)
		if n, ok := g.aggs[0].result().Number(); ok {
			score[c] = n
		}
	}
	other := map[string]bool{}
	if limit := optInt(ch.c.Options, "limit", 10); limit > 0 && len(cols) > limit {
		slices.SortFunc(cols, func(a, b string) int {
			if c := -cmpFloat(score[a], score[b]); c != 0 {
				return c
			}
			return strings.Compare(a, b)
		})
		for _, c := range cols[limit:] {
			other[c] = true
		}
		cols = cols[:limit]
		if useother {
			cols = append(cols, "OTHER")
		}
	}
	sortSeries(cols)
	return cols, other
}
