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

// autoSpans are the spans timechart picks from, smallest first, when no
// span= is given: the first that needs at most 100 buckets.
var autoSpans = []span{{1, "s"}, {5, "s"}, {10, "s"}, {30, "s"}, {1, "m"}, {5, "m"}, {10, "m"}, {30, "m"},
	{1, "h"}, {3, "h"}, {12, "h"}, {1, "d"}, {7, "d"}, {1, "mon"}, {3, "mon"}, {1, "y"}, {10, "y"}, {100, "y"}}

func autoSpan(lo, hi float64) span {
	for _, sp := range autoSpans {
		if w := sp.seconds(); w > 0 && (hi-lo)/w < 100 {
			return sp
		}
		if sp.unit == "mon" && (hi-lo)/(sp.n*31*86400) < 100 || sp.unit == "y" && (hi-lo)/(sp.n*366*86400) < 100 {
			return sp
		}
	}
	return autoSpans[len(autoSpans)-1]
}

type bin struct {
	c  *spl.Bin
	sp span
}

func compileBin(c *spl.Bin) (Command, error) {
	sp, _, err := spanOption(c.Options, c.Pos)
	if err != nil {
		return nil, err
	}
	return bin{c: c, sp: sp}, nil
}

func (b bin) Run(_ context.Context, in RowIter, _ *Env) (RowIter, error) {
	out := b.c.Field
	if b.c.As != "" {
		out = b.c.As
	}
	isTime := b.c.Field == "_time" || b.sp.unit != ""
	return streamFn(in, func(r *Row) (*Row, bool) {
		n, ok := r.Get(b.c.Field).Number()
		if !ok {
			return r, true
		}
		if isTime {
			r.Set(out, NumValue(b.sp.floorTime(n)))
			return r, true
		}
		lo := math.Floor(n/b.sp.n) * b.sp.n
		r.Set(out, StrValue(formatNum(lo)+"-"+formatNum(lo+b.sp.n)))
		return r, true
	}), nil
}
