package search

import (
	"context"
	"math"
	"slices"
	"strings"

	"github.com/dockyard/dockyard/internal/spl"
)

// agg accumulates one aggregation over the rows of a group.
type agg interface {
	add(v Value)
	result() Value
}

func newAgg(fn string) agg {
	switch fn {
	case "count", "c":
		return &countAgg{}
	case "dc", "distinct_count":
		return &dcAgg{seen: map[string]struct{}{}}
	case "sum":
		return &sumAgg{}
	case "avg", "mean":
		return &sumAgg{avg: true}
	case "min":
		return &extAgg{sign: -1}
	case "max":
		return &extAgg{sign: 1}
	case "median":
		return &medianAgg{}
	case "stdev":
		return &stdevAgg{}
	case "values":
		return &valuesAgg{set: map[string]struct{}{}}
	case "list":
		return &listAgg{}
	}
	return newAgg2(fn)
}

type countAgg struct{ n float64 }

func (a *countAgg) add(Value)     { a.n++ }
func (a *countAgg) result() Value { return NumValue(a.n) }

type dcAgg struct{ seen map[string]struct{} }

func (a *dcAgg) add(v Value) {
	for _, s := range v.Values() {
		a.seen[s] = struct{}{}
	}
}
func (a *dcAgg) result() Value { return NumValue(float64(len(a.seen))) }

type sumAgg struct {
	sum, n float64
	avg    bool
}

func (a *sumAgg) add(v Value) {
	if f, ok := v.Number(); ok {
		a.sum += f
		a.n++
	}
}

func (a *sumAgg) result() Value {
	switch {
	case a.n == 0:
		return NullValue
	case a.avg:
		return finite(a.sum / a.n)
	}
	return finite(a.sum) // a sum past float64's range is null, not +Inf
}

// extAgg is min or max: numeric when any value is a number, else lexical.
type extAgg struct {
	sign   int
	num    float64
	hasNum bool
	str    string
	hasStr bool
}

func (a *extAgg) add(v Value) {
	if f, ok := v.Number(); ok {
		if !a.hasNum || (f-a.num)*float64(a.sign) > 0 {
			a.num, a.hasNum = f, true
		}
		return
	}
	s := v.String()
	if !a.hasStr || strings.Compare(s, a.str)*a.sign > 0 {
		a.str, a.hasStr = s, true
	}
}

func (a *extAgg) result() Value {
	switch {
	case a.hasNum:
		return NumValue(a.num)
	case a.hasStr:
		return StrValue(a.str)
	}
	return NullValue
}

type medianAgg struct{ vs []float64 }

func (a *medianAgg) add(v Value) {
	if f, ok := v.Number(); ok {
		a.vs = append(a.vs, f)
	}
}

func (a *medianAgg) result() Value {
	n := len(a.vs)
	if n == 0 {
		return NullValue
	}
	slices.Sort(a.vs)
	if n%2 == 1 {
		return NumValue(a.vs[n/2])
	}
	return NumValue((a.vs[n/2-1] + a.vs[n/2]) / 2)
}

// stdevAgg is the sample standard deviation (Welford's method).
type stdevAgg struct{ n, mean, m2 float64 }

func (a *stdevAgg) add(v Value) {
	f, ok := v.Number()
	if !ok {
		return
	}
	a.n++
	d := f - a.mean
	a.mean += d / a.n
	a.m2 += d * (f - a.mean)
}

func (a *stdevAgg) result() Value {
	if a.n < 2 {
		return NullValue
	}
	return finite(math.Sqrt(a.m2 / (a.n - 1)))
}

type valuesAgg struct{ set map[string]struct{} }

func (a *valuesAgg) add(v Value) {
	for _, s := range v.Values() {
		a.set[s] = struct{}{}
	}
}

func (a *valuesAgg) result() Value {
	out := make([]string, 0, len(a.set))
	for s := range a.set {
		out = append(out, s)
	}
	slices.Sort(out)
	return MultiValue(out)
}

// listAgg keeps values in arrival order, at most listMax of them.
type listAgg struct{ vs []string }

const listMax = 100

func (a *listAgg) add(v Value) {
	for _, s := range v.Values() {
		if len(a.vs) < listMax {
			a.vs = append(a.vs, s)
		}
	}
}

func (a *listAgg) result() Value { return MultiValue(slices.Clone(a.vs)) }

// groupKey appends the by-values of r to buf as a map key; ok is false
// when a by field is missing (such rows are not counted, as in Splunk).
func groupKey(by []string, r *Row, buf []byte) ([]byte, bool) {
	buf = buf[:0]
	for _, f := range by {
		v := r.Get(f)
		if v.IsNull() {
			return buf, false
		}
		buf = appendValue(buf, v)
		buf = append(buf, 0)
	}
	return buf, true
}

func byValues(by []string, r *Row) []Value {
	vals := make([]Value, len(by))
	for i, f := range by {
		vals[i] = r.Get(f)
	}
	return vals
}

type stats struct{ c *spl.Stats }

func (s stats) Run(_ context.Context, in RowIter, env *Env) (RowIter, error) {
	return func(yield func(*Row, error) bool) {
		pl := newPlan(s.c.Aggs)
		pl.mem = env.mem()
		groups := map[string]*group{}
		var single *group
		if len(s.c.By) == 0 {
			single = newGroup(pl, nil)
		}
		var buf []byte
		for r, err := range in {
			if err != nil {
				yield(nil, err)
				return
			}
			if single != nil {
				single.add(pl, r)
				if pl.err != nil {
					yield(nil, pl.err)
					return
				}
				continue
			}
			var ok bool
			if buf, ok = groupKey(s.c.By, r, buf); !ok {
				continue
			}
			g := groups[string(buf)]
			if g == nil {
				g = newGroup(pl, byValues(s.c.By, r))
				groups[string(buf)] = g
				pl.charge(int64(len(buf)+64) + 64*int64(len(pl.aggs)))
			}
			g.add(pl, r)
			if pl.err != nil {
				yield(nil, pl.err)
				return
			}
		}
		var list []*group
		if single != nil {
			list = []*group{single}
		}
		for _, g := range groups {
			list = append(list, g)
		}
		slices.SortFunc(list, func(a, b *group) int {
			for i := range a.by {
				if c := Compare(a.by[i], b.by[i]); c != 0 {
					return c
				}
			}
			return 0
		})
		for _, g := range list {
			out := NewRow(len(s.c.By) + len(s.c.Aggs))
			for i, f := range s.c.By {
				out.Fields = append(out.Fields, Field{Name: f, Value: g.by[i]})
			}
			g.set(pl, out, false)
			if !yield(out, nil) {
				return
			}
		}
	}, nil
}

type streamstats struct{ c *spl.Stats }

func (s streamstats) Run(_ context.Context, in RowIter, _ *Env) (RowIter, error) {
	groups := map[string]*group{}
	pl := newPlan(s.c.Aggs)
	var buf []byte
	return streamFn(in, func(r *Row) (*Row, bool) {
		var ok bool
		if buf, ok = groupKey(s.c.By, r, buf); !ok {
			return r, true
		}
		g := groups[string(buf)]
		if g == nil {
			g = newGroup(pl, nil)
			groups[string(buf)] = g
		}
		g.add(pl, r)
		g.set(pl, r, true)
		return r, true
	}), nil
}
