package search

import (
	"math"
	"slices"

	"github.com/dockyard/dockyard/internal/spl"
)

// timedAgg is an aggregation that needs each value's _time.
type timedAgg interface {
	addAt(v Value, t float64, hasT bool)
}

func addTo(a agg, v Value, t float64, hasT bool) {
	if ta, ok := a.(timedAgg); ok {
		ta.addAt(v, t, hasT)
		return
	}
	a.add(v)
}

// newAgg2 builds the aggregations beyond the first set.
func newAgg2(fn string) agg {
	switch fn {
	case "var":
		return &varAgg{}
	case "varp":
		return &varAgg{pop: true}
	case "stdevp":
		return &varAgg{pop: true, sqrt: true}
	case "range":
		return &rangeAgg{}
	case "mode":
		return &modeAgg{counts: map[string]int{}}
	case "first":
		return &firstAgg{}
	case "last":
		return &firstAgg{last: true}
	case "earliest":
		return &timeAgg{}
	case "latest":
		return &timeAgg{latest: true}
	}
	if p, ok := spl.PercentileOf(fn); ok {
		return &percAgg{p: p}
	}
	return &listAgg{}
}

// varAgg is the sample (or, with pop, population) variance, or with sqrt
// the standard deviation.
type varAgg struct {
	stdevAgg
	pop, sqrt bool
}

func (a *varAgg) result() Value {
	d := a.n - 1
	if a.pop {
		d = a.n
	}
	if a.n == 0 || d <= 0 {
		return NullValue
	}
	v := a.m2 / d
	if a.sqrt {
		v = math.Sqrt(v)
	}
	return finite(v)
}

type rangeAgg struct {
	lo, hi float64
	n      int
}

func (a *rangeAgg) add(v Value) {
	f, ok := v.Number()
	if !ok {
		return
	}
	if a.n == 0 || f < a.lo {
		a.lo = f
	}
	if a.n == 0 || f > a.hi {
		a.hi = f
	}
	a.n++
}

func (a *rangeAgg) result() Value {
	if a.n == 0 {
		return NullValue
	}
	return finite(a.hi - a.lo)
}

// modeAgg is the most frequent value; ties go to the one seen first.
type modeAgg struct {
	counts map[string]int
	order  []string
}

func (a *modeAgg) add(v Value) {
	for _, s := range v.Values() {
		if a.counts[s] == 0 {
			a.order = append(a.order, s)
		}
		a.counts[s]++
	}
}

func (a *modeAgg) result() Value {
	best, n := "", 0
	for _, s := range a.order {
		if a.counts[s] > n {
			best, n = s, a.counts[s]
		}
	}
	if n == 0 {
		return NullValue
	}
	return StrValue(best)
}

// firstAgg keeps the first (or last) value in the order rows arrive.
type firstAgg struct {
	v    Value
	last bool
}

func (a *firstAgg) add(v Value) {
	if a.last || a.v.IsNull() {
		a.v = v
	}
}
func (a *firstAgg) result() Value { return a.v }

// timeAgg keeps the value of the row with the smallest (or, latest, the
// largest) _time; on equal times, the first seen. Rows without _time do
// not count.
type timeAgg struct {
	v      Value
	t      float64
	latest bool
}

func (a *timeAgg) add(Value) {}

func (a *timeAgg) addAt(v Value, t float64, hasT bool) {
	if !hasT {
		return
	}
	if a.v.IsNull() || !a.latest && t < a.t || a.latest && t > a.t {
		a.v, a.t = v, t
	}
}
func (a *timeAgg) result() Value { return a.v }

// percAgg is the exact p-th percentile, interpolated linearly between the
// two nearest ranks: rank p/100*(n-1), counted from 0.
type percAgg struct {
	p  float64
	vs []float64
}

func (a *percAgg) add(v Value) {
	if f, ok := v.Number(); ok {
		a.vs = append(a.vs, f)
	}
}

func (a *percAgg) result() Value {
	n := len(a.vs)
	if n == 0 {
		return NullValue
	}
	slices.Sort(a.vs)
	r := a.p / 100 * float64(n-1)
	lo := int(math.Floor(r))
	hi := min(lo+1, n-1)
	return finite(a.vs[lo] + (r-float64(lo))*(a.vs[hi]-a.vs[lo]))
}
