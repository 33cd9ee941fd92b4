package search

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"math"
	"net/netip"
	"net/url"
	"strings"

	"github.com/dockyard/dockyard/internal/spl"
)

// moreFuncs are the time, multivalue, hashing, type and JSON functions.
func moreFuncs() map[string]funcSpec {
	return map[string]funcSpec{
		"strftime": simple(2, 2, func(vs []Value) Value {
			n, ok := vs[0].Number()
			if !ok || vs[1].IsNull() || math.Abs(n) > 1e13 {
				return NullValue
			}
			return StrValue(strftime(epochTime(n), vs[1].String()))
		}),
		"strptime": simple(2, 2, func(vs []Value) Value {
			if vs[0].IsNull() || vs[1].IsNull() {
				return NullValue
			}
			t, ok := strptime(vs[0].String(), vs[1].String())
			if !ok {
				return NullValue
			}
			return NumValue(timeEpoch(t))
		}),
		"relative_time": simple(2, 2, func(vs []Value) Value {
			n, ok := vs[0].Number()
			spec := vs[1].String()
			if !ok || spec == "" || !strings.ContainsAny(spec[:1], "+-@") || math.Abs(n) > 1e13 {
				return NullValue
			}
			t, err := ParseTime(spec, epochTime(n))
			if err != nil {
				return NullValue
			}
			return NumValue(timeEpoch(t))
		}),
		"exact": simple(1, 1, func(vs []Value) Value { return vs[0] }),
		"split": simple(2, 2, func(vs []Value) Value {
			if vs[0].IsNull() || vs[1].IsNull() {
				return NullValue
			}
			s, d := vs[0].String(), vs[1].String()
			if d == "" {
				return MultiValue(strings.Split(s, ""))
			}
			return MultiValue(strings.Split(s, d))
		}),
		"mvindex": simple(2, 3, func(vs []Value) Value {
			el := vs[0].Values()
			a, ok := vs[1].Number()
			if !ok || len(el) == 0 {
				return NullValue
			}
			i, okI := mvPos(a, len(el))
			j := i
			if len(vs) == 3 {
				b, ok := vs[2].Number()
				if !ok {
					return NullValue
				}
				var okJ bool
				j, okJ = mvPos(b, len(el))
				if !okJ && b >= float64(len(el)) {
					j, okJ = len(el)-1, true
				}
				if !okI || !okJ || j < i {
					return NullValue
				}
				return MultiValue(append([]string(nil), el[i:j+1]...))
			}
			if !okI {
				return NullValue
			}
			return StrValue(el[i])
		}),
		"mvjoin": simple(2, 2, func(vs []Value) Value {
			if vs[0].IsNull() {
				return NullValue
			}
			return StrValue(joinLimited(vs[0].Values(), vs[1].String()))
		}),
		"mvappend": simple(1, -1, func(vs []Value) Value {
			var out []string
			for _, v := range vs {
				out = append(out, v.Values()...)
			}
			return MultiValue(out)
		}),
		"mvfilter":    {1, 1, buildMvfilter},
		"mvdedup":     simple(1, 1, func(vs []Value) Value { return MultiValue(dedupStrings(vs[0].Values())) }),
		"mvsort":      simple(1, 1, func(vs []Value) Value { return MultiValue(sortedStrings(vs[0].Values())) }),
		"printf":      simple(1, -1, splPrintf),
		"sha256":      str1(func(s string) string { h := sha256.Sum256([]byte(s)); return hex.EncodeToString(h[:]) }),
		"md5":         str1(func(s string) string { h := md5.Sum([]byte(s)); return hex.EncodeToString(h[:]) }),
		"urldecode":   simple(1, 1, urldecode),
		"cidrmatch":   simple(2, 2, cidrmatch),
		"typeof":      simple(1, 1, func(vs []Value) Value { return StrValue(typeOf(vs[0])) }),
		"isint":       simple(1, 1, func(vs []Value) Value { n, ok := vs[0].Number(); return Bool(ok && n == math.Trunc(n)) }),
		"isstr":       simple(1, 1, func(vs []Value) Value { _, ok := vs[0].Number(); return Bool(!ok && vs[0].Kind() == Str) }),
		"nullif":      simple(2, 2, func(vs []Value) Value { return nullif(vs[0], vs[1]) }),
		"searchmatch": {1, 1, buildSearchmatch},
		"json_extract": simple(1, -1, func(vs []Value) Value {
			return jsonExtract(vs[0], vs[1:])
		}),
		"spath": simple(2, 2, func(vs []Value) Value { return spathValue(vs[0], vs[1].String()) }),
	}
}

// mvPos maps a 0-based index (negative counts from the end) into [0, n).
func mvPos(f float64, n int) (int, bool) {
	f = math.Trunc(f)
	if f < 0 {
		f += float64(n)
	}
	if f < 0 || f >= float64(n) {
		return 0, false
	}
	return int(f), true
}

func joinLimited(el []string, sep string) string {
	n := 0
	for _, s := range el {
		n += len(s) + len(sep)
	}
	if n > maxValueLen {
		tooLong(n)
	}
	return strings.Join(el, sep)
}

func nullif(a, b Value) Value {
	if !a.IsNull() && !b.IsNull() && Equal(a, b) {
		return NullValue
	}
	return a
}

// typeOf names a value's type as Splunk's typeof does. Booleans are the
// strings "true" and "false" in Dockyard, so they name String.
func typeOf(v Value) string {
	switch v.Kind() {
	case Null:
		return "Invalid"
	case Multi:
		return "Multivalue"
	}
	if _, ok := v.Number(); ok {
		return "Number"
	}
	return "String"
}

func urldecode(vs []Value) Value {
	if vs[0].IsNull() {
		return NullValue
	}
	s, err := url.QueryUnescape(vs[0].String())
	if err != nil {
		return NullValue
	}
	return StrValue(s)
}

func cidrmatch(vs []Value) Value {
	if vs[0].IsNull() || vs[1].IsNull() {
		return NullValue
	}
	pfx, err := netip.ParsePrefix(strings.TrimSpace(vs[0].String()))
	if err != nil {
		return Bool(false)
	}
	addr, err := netip.ParseAddr(strings.TrimSpace(vs[1].String()))
	if err != nil {
		return Bool(false)
	}
	return Bool(pfx.Contains(addr.Unmap()))
}

// buildMvfilter evaluates its predicate once per element of the single
// multivalue field it names; the elements for which it is true remain.
func buildMvfilter(a []evalFn, c *spl.Call, _ *exprEnv) (evalFn, error) {
	field := firstField(c.Args[0])
	if field == "" {
		return nil, spl.Errorf(c.Pos, "mvfilter needs an expression of one field, such as mvfilter(match(email, \"@example.com$\"))")
	}
	return func(r *Row) Value {
		var out []string
		tmp := NewRow(1)
		for _, s := range r.Get(field).Values() {
			tmp.Fields = append(tmp.Fields[:0], Field{Name: field, Value: StrValue(s)})
			if a[0](tmp).Truthy() {
				out = append(out, s)
			}
		}
		return MultiValue(out)
	}, nil
}

// firstField returns the first field an expression reads, or "".
func firstField(e spl.Expr) string {
	switch e := e.(type) {
	case *spl.FieldRef:
		return e.Name
	case *spl.Unary:
		return firstField(e.X)
	case *spl.Binary:
		if f := firstField(e.L); f != "" {
			return f
		}
		return firstField(e.R)
	case *spl.Call:
		for _, x := range e.Args {
			if f := firstField(x); f != "" {
				return f
			}
		}
	}
	return ""
}

// buildSearchmatch compiles its argument, a string literal, as search
// terms matched against the row.
func buildSearchmatch(_ []evalFn, c *spl.Call, x *exprEnv) (evalFn, error) {
	s, ok := c.Args[0].(*spl.String)
	if !ok {
		return nil, spl.Errorf(c.Pos, "searchmatch needs a quoted search string, such as searchmatch(\"status=404 host=web*\")")
	}
	pl, err := spl.Parse("search " + s.Value)
	if err != nil {
		return nil, spl.Errorf(s.Pos, "searchmatch: bad search %s: %v", s, err)
	}
	sc, ok := pl.Commands[0].(*spl.Search)
	if !ok || len(pl.Commands) != 1 || len(subsOf(sc.Expr)) > 0 {
		return nil, spl.Errorf(s.Pos, "searchmatch takes search terms only, without pipes or subsearches")
	}
	p, err := compileSearchExpr(sc.Expr)
	if err != nil {
		return nil, err
	}
	return func(r *Row) Value { return Bool(p(r, &timeBounds{now: x.now})) }, nil
}
