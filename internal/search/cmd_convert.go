package search

import (
	"context"
	"math"
	"regexp"
	"strings"

	"github.com/dockyard/dockyard/internal/spl"
)

type convert struct{ c *spl.Convert }

func (cv convert) Run(_ context.Context, in RowIter, _ *Env) (RowIter, error) {
	tf := optStr(cv.c.Options, "timeformat", "%m/%d/%Y %H:%M:%S")
	return streamFn(in, func(r *Row) (*Row, bool) {
		for _, c := range cv.c.Conversions {
			fields := []string{c.Field}
			if strings.Contains(c.Field, "*") {
				fields = nil
				for _, f := range r.Fields {
					if wildcardMatch(c.Field, f.Name, false) {
						fields = append(fields, f.Name)
					}
				}
			}
			for _, f := range fields {
				v := r.Get(f)
				if v.IsNull() || c.Func == "none" {
					continue
				}
				out, keep := convertValue(c.Func, v, tf)
				name := f
				if c.As != "" && !strings.Contains(c.Field, "*") {
					name = c.As
				}
				switch {
				case !out.IsNull():
					r.Set(name, out)
				case !keep:
					r.Delete(name)
				}
			}
		}
		return r, true
	}), nil
}

var leadingNum = regexp.MustCompile(`^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?`)

// convertValue applies one convert function. A null result with keep set
// leaves the field as it was (auto, rmunit); without, it removes it (num).
func convertValue(fn string, v Value, tf string) (Value, bool) {
	s := strings.TrimSpace(v.String())
	switch fn {
	case "ctime":
		n, ok := v.Number()
		if !ok || math.Abs(n) > 1e13 {
			return NullValue, true
		}
		return StrValue(strftime(epochTime(n), tf)), true
	case "mktime":
		t, ok := strptime(s, tf)
		if !ok {
			return NullValue, true
		}
		return NumValue(timeEpoch(t)), true
	case "auto":
		if n, ok := parseNum(s); ok {
			return NumValue(n), true
		}
		return NullValue, true
	case "num":
		if n, ok := parseNum(s); ok {
			return NumValue(n), false
		}
		return NullValue, false
	case "rmcomma":
		if n, ok := parseNum(strings.ReplaceAll(s, ",", "")); ok {
			return NumValue(n), true
		}
		return NullValue, true
	case "rmunit":
		if m := leadingNum.FindString(s); m != "" {
			n, _ := parseNum(strings.TrimSpace(m))
			return NumValue(n), true
		}
		return NullValue, true
	case "memk":
		return memk(s), true
	case "dur2sec":
		return dur2sec(s), true
	case "mstime":
		return mstime(s), true
	}
	return NullValue, true
}

// memk converts N[k|m|g] to kilobytes.
func memk(s string) Value {
	mult := 1.0
	if s != "" {
		switch s[len(s)-1] {
		case 'k', 'K':
			s = s[:len(s)-1]
		case 'm', 'M':
			mult, s = 1024, s[:len(s)-1]
		case 'g', 'G':
			mult, s = 1024*1024, s[:len(s)-1]
		}
	}
	n, ok := parseNum(s)
	if !ok || n < 0 {
		return NullValue
	}
	return finite(n * mult)
}

// dur2sec converts [D+]HH:MM:SS to seconds.
func dur2sec(s string) Value {
	days := 0.0
	if d, rest, ok := strings.Cut(s, "+"); ok {
		n, ok := parseNum(d)
		if !ok {
			return NullValue
		}
		days, s = n, rest
	}
	parts := strings.Split(s, ":")
	if len(parts) > 3 {
		return NullValue
	}
	total := 0.0
	for _, p := range parts {
		n, ok := parseNum(p)
		if !ok || n < 0 {
			return NullValue
		}
		total = total*60 + n
	}
	if len(parts) == 2 { // HH:MM
		total *= 60
	}
	return finite(days*86400 + total)
}

// mstime converts [MM:]SS.SSS to seconds.
func mstime(s string) Value {
	m, sec, ok := strings.Cut(s, ":")
	if !ok {
		m, sec = "0", s
	}
	mn, ok1 := parseNum(m)
	sn, ok2 := parseNum(sec)
	if !ok1 || !ok2 {
		return NullValue
	}
	return finite(mn*60 + sn)
}
