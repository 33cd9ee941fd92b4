package search

import (
	"slices"
	"strings"

	"github.com/dockyard/dockyard/internal/spl"
)

// group is the state of one by-combination.
type group struct {
	by   []Value
	aggs []agg
	wild []map[string]agg // per aggregation over a wildcard field: one per field
}

func newGroup(pl *aggPlan, by []Value) *group {
	g := &group{by: by, aggs: make([]agg, len(pl.aggs)), wild: make([]map[string]agg, len(pl.aggs))}
	for i, a := range pl.aggs {
		if pl.wild[i] {
			g.wild[i] = map[string]agg{}
		} else {
			g.aggs[i] = newAgg(a.Func)
		}
	}
	return g
}

func (g *group) add(pl *aggPlan, r *Row) {
	if pl.mem != nil && pl.keep != nil {
		for i, a := range pl.aggs {
			if pl.keep[i] {
				pl.charge(valueSize(r.Get(a.Field)) + 16)
			}
		}
	}
	if pl.simple { // the common case, kept as lean as it was
		for i, a := range pl.aggs {
			if a.Field == "" {
				g.aggs[i].add(NullValue)
			} else if v := r.Get(a.Field); !v.IsNull() {
				g.aggs[i].add(v)
			}
		}
		return
	}
	var t float64
	var hasT bool
	if pl.timed {
		t, hasT = r.Get("_time").Number()
	}
	for i, a := range pl.aggs {
		switch {
		case pl.wild[i]:
			for _, f := range r.Fields {
				if f.Value.IsNull() || !wildcardMatch(a.Field, f.Name, false) {
					continue
				}
				pl.note(i, f.Name)
				ag := g.wild[i][f.Name]
				if ag == nil {
					ag = newAgg(a.Func)
					g.wild[i][f.Name] = ag
				}
				addTo(ag, f.Value, t, hasT)
			}
		case a.Field == "":
			g.aggs[i].add(NullValue)
		case pl.timed:
			if v := r.Get(a.Field); !v.IsNull() {
				addTo(g.aggs[i], v, t, hasT)
			}
		default:
			if v := r.Get(a.Field); !v.IsNull() {
				g.aggs[i].add(v)
			}
		}
	}
}

// set writes the group's results to out.
func (g *group) set(pl *aggPlan, out *Row, skipNull bool) {
	if pl.simple {
		for i, ag := range g.aggs {
			if v := ag.result(); !skipNull || !v.IsNull() {
				out.Set(pl.names[i], v)
			}
		}
		return
	}
	for i, a := range pl.aggs {
		if !pl.wild[i] {
			if v := g.aggs[i].result(); !skipNull || !v.IsNull() {
				out.Set(pl.names[i], v)
			}
			continue
		}
		for _, f := range pl.order[i] {
			v := NullValue
			if ag := g.wild[i][f]; ag != nil {
				v = ag.result()
			}
			if !skipNull || !v.IsNull() {
				out.Set(wildOutName(a, f), v)
			}
		}
	}
}

// aggPlan is the aggregations of a stats-like command and the fields their
// wildcards have matched so far, in first-seen order.
type aggPlan struct {
	aggs   []spl.Agg
	wild   []bool
	timed  bool     // some aggregation reads _time (earliest, latest)
	names  []string // the output names of the aggregations without wildcards
	simple bool     // no wildcards and no _time: the lean path
	order  [][]string
	seen   []map[string]bool
	keep   []bool  // the aggregation keeps its values (see keeps)
	mem    *budget // charged for groups and the values aggregations keep
	err    error   // the first charge that failed
}

// keeps reports whether an aggregation keeps its values (not just a sum).
func keeps(fn string) bool {
	switch fn {
	case "dc", "distinct_count", "median", "values", "list", "mode":
		return true
	}
	_, ok := spl.PercentileOf(fn)
	return ok
}

func (pl *aggPlan) charge(n int64) {
	if pl.err == nil {
		pl.err = pl.mem.charge(n)
	}
}

func newPlan(aggs []spl.Agg) *aggPlan {
	pl := &aggPlan{aggs: aggs, wild: make([]bool, len(aggs)), order: make([][]string, len(aggs)),
		seen: make([]map[string]bool, len(aggs)), names: make([]string, len(aggs))}
	for i, a := range aggs {
		pl.names[i] = a.OutName()
		pl.wild[i] = strings.Contains(a.Field, "*")
		pl.seen[i] = map[string]bool{}
		if keeps(a.Func) {
			if pl.keep == nil {
				pl.keep = make([]bool, len(aggs))
			}
			pl.keep[i] = true
		}
		if a.Func == "earliest" || a.Func == "latest" {
			pl.timed = true
		}
	}
	pl.simple = !pl.timed && !slices.Contains(pl.wild, true)
	return pl
}

func (pl *aggPlan) note(i int, f string) {
	if !pl.seen[i][f] {
		pl.seen[i][f] = true
		pl.order[i] = append(pl.order[i], f)
	}
}

// wildOutName names the result of a wildcard aggregation for field f:
// the as pattern with its * filled from f, or FUNC(f).
func wildOutName(a spl.Agg, f string) string {
	if a.As == "" {
		return a.Func + "(" + f + ")"
	}
	if to, ok := renameWild(a.Field, a.As, f); ok {
		return to
	}
	return a.As
}
