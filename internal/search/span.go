package search

import (
	"context"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/dockyard/dockyard/internal/spl"
)

// span is a bucket width: a number with an optional time unit (s, m, h,
// d, w, mon, y). A plain number is seconds for _time and a width for other
// fields.
type span struct {
	n    float64
	unit string // "", "s", "m", "h", "d", "w", "mon", "y"
}

func parseSpan(s string) (span, bool) {
	i := 0
	for i < len(s) && (isDigitByte(s[i]) || s[i] == '.') {
		i++
	}
	n, err := strconv.ParseFloat(s[:i], 64)
	if i == 0 || err != nil || n <= 0 || math.IsInf(n, 0) {
		return span{}, false
	}
	sp := span{n: n}
	if rest := strings.ToLower(s[i:]); rest != "" {
		if sp.unit = unitOf(rest); sp.unit == "" {
			if rest != "q" && rest != "qtr" && rest != "qtrs" && rest != "quarter" && rest != "quarters" {
				return span{}, false
			}
			sp.unit, sp.n = "mon", n*3
		}
		if (sp.unit == "mon" || sp.unit == "y" || sp.unit == "w" || sp.unit == "d") && sp.n != math.Trunc(sp.n) {
			return span{}, false
		}
	}
	return sp, true
}

func spanOption(opts []spl.Option, pos spl.Pos) (span, bool, error) {
	o, ok := spl.FindOption(opts, "span")
	if !ok {
		return span{}, false, nil
	}
	sp, ok := parseSpan(o.Value)
	if !ok {
		return span{}, false, spl.Errorf(o.Pos, "bad span %q: expected a positive number with an optional unit, such as 30s, 5m, 1h, 1d, 1w, 1mon or 10", o.Value)
	}
	return sp, true, nil
}

// seconds returns the fixed width in seconds; 0 for months and years.
func (sp span) seconds() float64 {
	switch sp.unit {
	case "", "s":
		return sp.n
	case "m":
		return sp.n * 60
	case "h":
		return sp.n * 3600
	case "d":
		return sp.n * 86400
	case "w":
		return sp.n * 7 * 86400
	}
	return 0
}

// sundayEpoch is 1970-01-04, a Sunday: weeks start on Sunday, as @w does.
const sundayEpoch = 3 * 86400

// floorTime returns the start of the bucket holding epoch t. Fixed widths
// are aligned to multiples of the width since the epoch (so 1h on the hour
// and 1d at midnight, UTC); weeks start on Sunday; months and years on
// the first, counted from year 0 in steps of the span.
func (sp span) floorTime(t float64) float64 {
	if w := sp.seconds(); w > 0 {
		off := 0.0
		if sp.unit == "w" {
			off = sundayEpoch
		}
		return math.Floor((t-off)/w)*w + off
	}
	tm := epochTime(t)
	n := int(sp.n)
	if sp.unit == "y" {
		y := tm.Year() - mod(tm.Year(), n)
		return float64(time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC).Unix())
	}
	m := tm.Year()*12 + int(tm.Month()) - 1
	m -= mod(m, n)
	return float64(time.Date(m/12, time.Month(m%12+1), 1, 0, 0, 0, 0, time.UTC).Unix())
}

// nextTime returns the start of the bucket after the one starting at t.
func (sp span) nextTime(t float64) float64 {
	if w := sp.seconds(); w > 0 {
		return t + w
	}
	tm := epochTime(t)
	if sp.unit == "y" {
		return float64(tm.AddDate(int(sp.n), 0, 0).Unix())
	}
	return float64(tm.AddDate(0, int(sp.n), 0).Unix())
}

func mod(a, n int) int {
	r := a % n
	if r < 0 {
		r += n
	}
	return r
}

// autoSpans are the spans timechart (and bin on _time) pick from,
// smallest first, when no span= is given: the first that needs at most
// bins= buckets (100 by default).
var autoSpans = []span{{1, "s"}, {5, "s"}, {10, "s"}, {30, "s"}, {1, "m"}, {5, "m"}, {10, "m"}, {30, "m"},
	{1, "h"}, {3, "h"}, {12, "h"}, {1, "d"}, {7, "d"}, {1, "mon"}, {3, "mon"}, {1, "y"}, {10, "y"}, {100, "y"}}

func autoSpan(lo, hi float64, most int) span {
	for _, sp := range autoSpans {
		if countBuckets(sp, lo, hi) <= most {
			return sp
		}
	}
	return autoSpans[len(autoSpans)-1]
}

// defaultBins is the most buckets bin and timechart make without span=
// or bins=, as Splunk's [discretize] default.
const defaultBins = 100

// binsOption reads bins= (checked by the parser), else defaultBins.
func binsOption(opts []spl.Option) int {
	if v, ok := spl.OptionValue(opts, "bins"); ok {
		if n, err := strconv.Atoi(v); err == nil && n > 0 {
			return n
		}
	}
	return defaultBins
}

type bin struct {
	c       *spl.Bin
	sp      span
	hasSpan bool
	bins    int     // the most buckets, without span=
	start   float64 // a numeric range's extent, without span= (NaN: none)
	end     float64
}

func compileBin(c *spl.Bin) (Command, error) {
	sp, has, err := spanOption(c.Options, c.Pos)
	if err != nil {
		return nil, err
	}
	b := bin{c: c, sp: sp, hasSpan: has, bins: binsOption(c.Options), start: math.NaN(), end: math.NaN()}
	if v, ok := spl.OptionValue(c.Options, "start"); ok {
		b.start, _ = strconv.ParseFloat(v, 64)
	}
	if v, ok := spl.OptionValue(c.Options, "end"); ok {
		b.end, _ = strconv.ParseFloat(v, 64)
	}
	return b, nil
}

func (b bin) Run(_ context.Context, in RowIter, env *Env) (RowIter, error) {
	if b.hasSpan {
		return streamFn(in, func(r *Row) (*Row, bool) { b.apply(r, b.sp); return r, true }), nil
	}
	// Without span= the span comes from the values' range: the rows are
	// gathered first.
	return func(yield func(*Row, error) bool) {
		rows, err := keepRows(in, env.mem())
		if err != nil {
			yield(nil, err)
			return
		}
		lo, hi := math.Inf(1), math.Inf(-1)
		for _, r := range rows {
			if n, ok := r.Get(b.c.Field).Number(); ok {
				lo, hi = math.Min(lo, n), math.Max(hi, n)
			}
		}
		if lo <= hi {
			sp := b.autoSpan(lo, hi)
			env.Message("bin %s: span=%s%s, at most %d buckets (give span= to choose another)", b.c.Field, formatNum(sp.n), sp.unit, b.bins)
			for _, r := range rows {
				b.apply(r, sp)
			}
		}
		for _, r := range rows {
			if !yield(r, nil) {
				return
			}
		}
	}, nil
}

// autoSpan is the span of bins= over values from lo to hi: for _time the
// smallest of timechart's spans that needs at most bins buckets; for a
// number the smallest power of ten (start= and end= widening the range).
func (b bin) autoSpan(lo, hi float64) span {
	if b.c.Field == "_time" {
		return autoSpan(lo, hi, b.bins)
	}
	if !math.IsNaN(b.start) {
		lo = math.Min(lo, b.start)
	}
	if !math.IsNaN(b.end) {
		hi = math.Max(hi, b.end)
	}
	w := math.Pow(10, math.Floor(math.Log10(math.Max(hi-lo, 1e-9)/float64(b.bins))))
	for numBucket(hi, w)-numBucket(lo, w)+1 > float64(b.bins) {
		w *= 10
	}
	return span{n: w}
}

// countBuckets counts the buckets of sp from the one holding lo to the one
// holding hi.
func countBuckets(sp span, lo, hi float64) int {
	if w := sp.seconds(); w > 0 {
		return int(math.Min((sp.floorTime(hi)-sp.floorTime(lo))/w+1, 1e9))
	}
	n := 1
	for t := sp.floorTime(lo); ; n++ {
		if t = sp.nextTime(t); t > hi || n > 1e6 {
			return n
		}
	}
}

// apply sets the bucket of r's value with sp.
func (b bin) apply(r *Row, sp span) {
	out := b.c.Field
	if b.c.As != "" {
		out = b.c.As
	}
	n, ok := r.Get(b.c.Field).Number()
	if !ok {
		return
	}
	if b.c.Field == "_time" || sp.unit != "" {
		r.Set(out, NumValue(sp.floorTime(n)))
		return
	}
	k := numBucket(n, sp.n)
	r.Set(out, StrValue(formatNum(bucketEdge(k, sp.n))+"-"+formatNum(bucketEdge(k+1, sp.n))))
}

// numBucket is the index of the bucket of width w that holds n: bucket k
// is [k*w, (k+1)*w). Widths such as 0.1 (whose inverse is whole) multiply
// by the inverse, so that 0.3 is in bucket 3, not 2 (0.3/0.1 is
// 2.9999999999999996 in floating point).
func numBucket(n, w float64) float64 {
	if inv := 1 / w; w < 1 && inv == math.Round(inv) {
		return math.Floor(n*inv + 1e-9)
	}
	return math.Floor(n / w)
}

// bucketEdge is where bucket k of width w starts.
func bucketEdge(k, w float64) float64 {
	if inv := 1 / w; w < 1 && inv == math.Round(inv) {
		return k / inv
	}
	return k * w
}
