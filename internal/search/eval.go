package search

import (
	"math"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/dockyard/dockyard/internal/spl"
)

// evalFn computes an expression for a row.
type evalFn func(r *Row) Value

// exprEnv is what compiled expressions read at run time: the search's start
// time and its random source. Run sets them before rows flow.
type exprEnv struct {
	now time.Time
	rnd *rand.Rand
}

func (x *exprEnv) reset(env *Env) {
	x.now = env.now()
	x.rnd = rand.New(rand.NewPCG(uint64(x.now.UnixNano()), 0x5eed))
}

// compileExpr turns an expression into a function of a row.
func compileExpr(e spl.Expr, x *exprEnv) (evalFn, error) {
	switch e := e.(type) {
	case *spl.Number:
		v := NumValue(e.Value)
		return func(*Row) Value { return v }, nil
	case *spl.String:
		v := StrValue(e.Value)
		return func(*Row) Value { return v }, nil
	case *spl.FieldRef:
		name := e.Name
		return func(r *Row) Value { return r.Get(name) }, nil
	case *spl.Unary:
		f, err := compileExpr(e.X, x)
		if err != nil {
			return nil, err
		}
		if e.Op == "NOT" {
			return func(r *Row) Value { return Bool(!f(r).Truthy()) }, nil
		}
		return func(r *Row) Value {
			if n, ok := f(r).Number(); ok {
				return NumValue(-n)
			}
			return NullValue
		}, nil
	case *spl.Binary:
		l, err := compileExpr(e.L, x)
		if err != nil {
			return nil, err
		}
		r, err := compileExpr(e.R, x)
		if err != nil {
			return nil, err
		}
		return binary(e.Op, l, r), nil
	case *spl.Call:
		return compileCall(e, x)
	}
	return nil, spl.Errorf(e.Position(), "unsupported expression %s", e)
}

func binary(op string, l, r evalFn) evalFn {
	switch op {
	case "AND":
		return func(row *Row) Value { return Bool(l(row).Truthy() && r(row).Truthy()) }
	case "OR":
		return func(row *Row) Value { return Bool(l(row).Truthy() || r(row).Truthy()) }
	case "=", "!=", "<", "<=", ">", ">=":
		return func(row *Row) Value {
			a, b := l(row), r(row)
			if a.IsNull() || b.IsNull() {
				return Bool(false)
			}
			return Bool(cmpOp(op, Compare(a, b)))
		}
	case ".":
		return func(row *Row) Value {
			a, b := l(row), r(row)
			if a.IsNull() || b.IsNull() {
				return NullValue
			}
			return StrValue(a.String() + b.String())
		}
	case "+":
		return func(row *Row) Value {
			a, b := l(row), r(row)
			an, aok := a.Number()
			bn, bok := b.Number()
			switch {
			case aok && bok:
				return NumValue(an + bn)
			case a.IsNull() || b.IsNull():
				return NullValue
			}
			return StrValue(a.String() + b.String())
		}
	}
	var f func(a, b float64) (float64, bool)
	switch op {
	case "-":
		f = func(a, b float64) (float64, bool) { return a - b, true }
	case "*":
		f = func(a, b float64) (float64, bool) { return a * b, true }
	case "/":
		f = func(a, b float64) (float64, bool) { return a / b, b != 0 }
	default: // %
		f = func(a, b float64) (float64, bool) {
			if b == 0 {
				return 0, false
			}
			// Whole numbers take the fast integer path.
			if ia, ib := int64(a), int64(b); float64(ia) == a && float64(ib) == b && ib != -1 {
				return float64(ia % ib), true
			}
			return math.Mod(a, b), true
		}
	}
	return func(row *Row) Value {
		a, aok := l(row).Number()
		b, bok := r(row).Number()
		if !aok || !bok {
			return NullValue
		}
		if v, ok := f(a, b); ok {
			return NumValue(v)
		}
		return NullValue
	}
}

func cmpOp(op string, c int) bool {
	switch op {
	case "=":
		return c == 0
	case "!=":
		return c != 0
	case "<":
		return c < 0
	case "<=":
		return c <= 0
	case ">":
		return c > 0
	}
	return c >= 0
}

// likeMatch matches s against a SQL LIKE pattern (% any run, _ one char).
func likeMatch(s, pat string) bool {
	if pat == "" {
		return s == ""
	}
	switch pat[0] {
	case '%':
		for i := 0; i <= len(s); i++ {
			if likeMatch(s[i:], pat[1:]) {
				return true
			}
		}
		return false
	case '_':
		return s != "" && likeMatch(s[1:], pat[1:])
	}
	return s != "" && s[0] == pat[0] && likeMatch(s[1:], pat[1:])
}

// wildcardMatch matches s against a pattern with * wildcards,
// case-insensitively when fold is set.
func wildcardMatch(pat, s string, fold bool) bool {
	if fold {
		pat, s = strings.ToLower(pat), strings.ToLower(s)
	}
	parts := strings.Split(pat, "*")
	if len(parts) == 1 {
		return s == pat
	}
	if !strings.HasPrefix(s, parts[0]) {
		return false
	}
	s = s[len(parts[0]):]
	last := parts[len(parts)-1]
	for _, p := range parts[1 : len(parts)-1] {
		i := strings.Index(s, p)
		if i < 0 {
			return false
		}
		s = s[i+len(p):]
	}
	return strings.HasSuffix(s, last) && len(s) >= len(last)
}
