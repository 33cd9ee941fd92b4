package search

import (
	"math"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/dockyard/dockyard/internal/spl"
)

// funcSpec describes an eval function: its arity and how to build it.
type funcSpec struct {
	min, max int // max -1: any number
	build    func(args []evalFn, call *spl.Call, x *exprEnv) (evalFn, error)
}

// simple wraps a function of the argument values.
func simple(min, max int, f func(vs []Value) Value) funcSpec {
	return funcSpec{min: min, max: max, build: func(args []evalFn, _ *spl.Call, _ *exprEnv) (evalFn, error) {
		return func(r *Row) Value {
			vs := make([]Value, len(args))
			for i, a := range args {
				vs[i] = a(r)
			}
			return f(vs)
		}, nil
	}}
}

// math1 wraps a numeric function of one argument; non-numbers give null.
func math1(f func(float64) float64) funcSpec {
	return simple(1, 1, func(vs []Value) Value {
		n, ok := vs[0].Number()
		if !ok {
			return NullValue
		}
		v := f(n)
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return NullValue
		}
		return NumValue(v)
	})
}

func str1(f func(string) string) funcSpec {
	return simple(1, 1, func(vs []Value) Value {
		if vs[0].IsNull() {
			return NullValue
		}
		return StrValue(f(vs[0].String()))
	})
}

var funcs map[string]funcSpec

func init() {
	funcs = map[string]funcSpec{
		"if": {3, 3, func(a []evalFn, _ *spl.Call, _ *exprEnv) (evalFn, error) {
			return func(r *Row) Value {
				if a[0](r).Truthy() {
					return a[1](r)
				}
				return a[2](r)
			}, nil
		}},
		"case": {2, -1, func(a []evalFn, c *spl.Call, _ *exprEnv) (evalFn, error) {
			if len(a)%2 != 0 {
				return nil, spl.Errorf(c.Pos, "case takes pairs of condition and value, got %d arguments", len(a))
			}
			return func(r *Row) Value {
				for i := 0; i < len(a); i += 2 {
					if a[i](r).Truthy() {
						return a[i+1](r)
					}
				}
				return NullValue
			}, nil
		}},
		"coalesce": {1, -1, func(a []evalFn, _ *spl.Call, _ *exprEnv) (evalFn, error) {
			return func(r *Row) Value {
				for _, f := range a {
					if v := f(r); !v.IsNull() {
						return v
					}
				}
				return NullValue
			}, nil
		}},
		"round": simple(1, 2, func(vs []Value) Value {
			n, ok := vs[0].Number()
			if !ok {
				return NullValue
			}
			d := 0.0
			if len(vs) == 2 {
				if d, ok = vs[1].Number(); !ok {
					return NullValue
				}
			}
			d = math.Trunc(d)
			if d > 300 || math.IsInf(n, 0) { // finer than a float64 holds
				return finite(n)
			}
			p := math.Pow(10, d)
			return finite(math.Round(n*p) / p)
		}),
		"abs":   math1(math.Abs),
		"sqrt":  math1(math.Sqrt),
		"exp":   math1(math.Exp),
		"ln":    math1(math.Log),
		"floor": math1(math.Floor),
		"ceil":  math1(math.Ceil),
		"pow": simple(2, 2, func(vs []Value) Value {
			a, aok := vs[0].Number()
			b, bok := vs[1].Number()
			if !aok || !bok {
				return NullValue
			}
			return finite(math.Pow(a, b))
		}),
		"log": simple(1, 2, func(vs []Value) Value {
			n, ok := vs[0].Number()
			if !ok {
				return NullValue
			}
			base := 10.0
			if len(vs) == 2 {
				if base, ok = vs[1].Number(); !ok {
					return NullValue
				}
			}
			return finite(math.Log(n) / math.Log(base))
		}),
		"len": simple(1, 1, func(vs []Value) Value {
			if vs[0].IsNull() {
				return NullValue
			}
			return NumValue(float64(utf8.RuneCountInString(vs[0].String())))
		}),
		"lower": str1(strings.ToLower),
		"upper": str1(strings.ToUpper),
		"trim":  str1(strings.TrimSpace),
		"substr": simple(2, 3, func(vs []Value) Value {
			if vs[0].IsNull() {
				return NullValue
			}
			s := []rune(vs[0].String())
			start, ok := vs[1].Number()
			if !ok {
				return NullValue
			}
			// Clamp before converting: a float beyond the int range
			// converts to garbage.
			start = math.Max(-float64(len(s))-1, math.Min(start, float64(len(s))+1))
			i := int(start) - 1 // 1-based; negative counts from the end
			if start < 0 {
				i = len(s) + int(start)
			}
			i = max(0, min(i, len(s)))
			j := len(s)
			if len(vs) == 3 {
				n, ok := vs[2].Number()
				if !ok {
					return NullValue
				}
				n = math.Max(0, math.Min(n, float64(len(s))))
				j = max(i, min(len(s), i+int(n)))
			}
			return StrValue(string(s[i:j]))
		}),
		"replace": {3, 3, buildReplace},
		"match":   {2, 2, buildMatch},
		"like": simple(2, 2, func(vs []Value) Value {
			if vs[0].IsNull() || vs[1].IsNull() {
				return NullValue
			}
			return Bool(likeMatch(vs[0].String(), vs[1].String()))
		}),
		"tostring": simple(1, 2, func(vs []Value) Value {
			if vs[0].IsNull() {
				return NullValue
			}
			if len(vs) == 2 {
				n, ok := vs[0].Number()
				switch f := vs[1].String(); {
				case ok && f == "hex":
					return StrValue("0x" + strconv.FormatInt(int64(n), 16))
				case ok && f == "commas":
					return StrValue(commas(n))
				}
			}
			return StrValue(vs[0].String())
		}),
		"tonumber": simple(1, 2, func(vs []Value) Value {
			s := strings.TrimSpace(vs[0].String())
			if len(vs) == 2 {
				b, ok := vs[1].Number()
				if !ok {
					return NullValue
				}
				n, err := strconv.ParseInt(strings.TrimPrefix(strings.ToLower(s), "0x"), int(b), 64)
				if err != nil {
					return NullValue
				}
				return NumValue(float64(n))
			}
			if n, ok := parseNum(s); ok {
				return NumValue(n)
			}
			return NullValue
		}),
		"isnull":    simple(1, 1, func(vs []Value) Value { return Bool(vs[0].IsNull()) }),
		"isnotnull": simple(1, 1, func(vs []Value) Value { return Bool(!vs[0].IsNull()) }),
		"isnum": simple(1, 1, func(vs []Value) Value {
			_, ok := vs[0].Number()
			return Bool(ok)
		}),
		"null":  simple(0, 0, func([]Value) Value { return NullValue }),
		"true":  simple(0, 0, func([]Value) Value { return Bool(true) }),
		"false": simple(0, 0, func([]Value) Value { return Bool(false) }),
		"min":   simple(1, -1, func(vs []Value) Value { return extreme(vs, -1) }),
		"max":   simple(1, -1, func(vs []Value) Value { return extreme(vs, 1) }),
		"mvcount": simple(1, 1, func(vs []Value) Value {
			if vs[0].IsNull() {
				return NullValue
			}
			return NumValue(float64(len(vs[0].Values())))
		}),
		"random": {0, 0, func(_ []evalFn, _ *spl.Call, x *exprEnv) (evalFn, error) {
			return func(*Row) Value { return NumValue(float64(x.rnd.Int32())) }, nil
		}},
		"now": {0, 0, func(_ []evalFn, _ *spl.Call, x *exprEnv) (evalFn, error) {
			return func(*Row) Value { return NumValue(float64(x.now.Unix())) }, nil
		}},
	}
	for name, spec := range moreFuncs() {
		funcs[name] = spec
	}
}

func finite(v float64) Value {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return NullValue
	}
	return NumValue(v)
}

func extreme(vs []Value, sign int) Value {
	var best Value
	for _, v := range vs {
		if v.IsNull() {
			continue
		}
		if best.IsNull() || Compare(v, best)*sign > 0 {
			best = v
		}
	}
	return best
}

func commas(n float64) string {
	s := strconv.FormatInt(int64(math.Abs(math.Round(n))), 10)
	var b strings.Builder
	if n < 0 {
		b.WriteByte('-')
	}
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// constRegexp compiles the call's argument i when it is a string literal.
func constRegexp(c *spl.Call, i int) (*regexp.Regexp, error) {
	s, ok := c.Args[i].(*spl.String)
	if !ok {
		return nil, nil
	}
	re, err := regexp.Compile(s.Value)
	if err != nil {
		return nil, spl.Errorf(s.Pos, "bad regular expression %s: %v", s, err)
	}
	return re, nil
}

func regexpFor(pre *regexp.Regexp, v Value) *regexp.Regexp {
	if pre != nil {
		return pre
	}
	re, err := regexp.Compile(v.String())
	if err != nil {
		return nil
	}
	return re
}

var backref = regexp.MustCompile(`\\(\d)`)

func buildReplace(a []evalFn, c *spl.Call, _ *exprEnv) (evalFn, error) {
	pre, err := constRegexp(c, 1)
	if err != nil {
		return nil, err
	}
	return func(r *Row) Value {
		s, pat, repl := a[0](r), a[1](r), a[2](r)
		if s.IsNull() {
			return NullValue
		}
		re := regexpFor(pre, pat)
		if re == nil {
			return NullValue
		}
		return StrValue(replaceAll(re, s.String(), backref.ReplaceAllString(repl.String(), "$${$1}")))
	}, nil
}

// replaceAll is re.ReplaceAllString that stops with the value limit rather
// than building a result of any size (an empty pattern inserts repl at
// every position).
func replaceAll(re *regexp.Regexp, s, tmpl string) string {
	var b []byte
	last := 0
	for _, m := range re.FindAllStringSubmatchIndex(s, -1) {
		b = append(b, s[last:m[0]]...)
		b = re.ExpandString(b, tmpl, s, m)
		last = m[1]
		if len(b) > maxValueLen {
			tooLong(len(b))
		}
	}
	b = append(b, s[last:]...)
	if len(b) > maxValueLen {
		tooLong(len(b))
	}
	return string(b)
}

func buildMatch(a []evalFn, c *spl.Call, _ *exprEnv) (evalFn, error) {
	pre, err := constRegexp(c, 1)
	if err != nil {
		return nil, err
	}
	return func(r *Row) Value {
		s := a[0](r)
		re := regexpFor(pre, a[1](r))
		if s.IsNull() || re == nil {
			return NullValue
		}
		return Bool(re.MatchString(s.String()))
	}, nil
}

func compileCall(c *spl.Call, x *exprEnv) (evalFn, error) {
	spec, ok := funcs[c.Func]
	if !ok {
		return nil, spl.Errorf(c.Pos, "unknown function %q: see docs/search.md for the eval functions", c.Func)
	}
	if len(c.Args) < spec.min || spec.max >= 0 && len(c.Args) > spec.max {
		want := strconv.Itoa(spec.min)
		switch {
		case spec.max < 0:
			want = "at least " + want
		case spec.max != spec.min:
			want += " to " + strconv.Itoa(spec.max)
		}
		return nil, spl.Errorf(c.Pos, "%s takes %s arguments, got %d", c.Func, want, len(c.Args))
	}
	args := make([]evalFn, len(c.Args))
	for i, a := range c.Args {
		f, err := compileExpr(a, x)
		if err != nil {
			return nil, err
		}
		args[i] = f
	}
	return spec.build(args, c, x)
}
