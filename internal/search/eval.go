package search

import (
	"math"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/spl"
)

// maxValueLen bounds the length of a string an expression builds
// (concatenation, replace). Without it a few "| eval x=x . x" doubled one
// value until the server ran out of memory.
const maxValueLen = 16 << 20

// evalError is what an evalFn panics with when a value cannot be built
// within the limits; runExpr turns it back into the search's error.
type evalError struct{ err error }

func tooLong(n int) {
	panic(evalError{errdefs.Limitf(
		"search stopped: an expression built a string of %d bytes, more than the limit of %d bytes per value; build shorter values", n, maxValueLen)})
}

// runExpr calls f for r, returning the error an evalFn raised.
func runExpr[T any](f func(*Row) T, r *Row) (v T, err error) {
	defer func() {
		if p := recover(); p != nil {
			ee, ok := p.(evalError)
			if !ok {
				panic(p)
			}
			err = ee.err
		}
	}()
	return f(r), nil
}

// concat joins the strings of vs, or is null when one is null.
func concat(vs ...Value) Value {
	n := 0
	for _, v := range vs {
		if v.IsNull() {
			return NullValue
		}
		n += len(v.String())
	}
	if n > maxValueLen {
		tooLong(n)
	}
	var b strings.Builder
	b.Grow(n)
	for _, v := range vs {
		b.WriteString(v.String())
	}
	return StrValue(b.String())
}

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
		if e.Op == "." {
			return compileConcat(e, x)
		}
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
			if a.Kind() == Multi || b.Kind() == Multi {
				return Bool(anyCompare(op, a, b))
			}
			return Bool(cmpOp(op, Compare(a, b)))
		}
	case "+":
		return func(row *Row) Value {
			a, b := l(row), r(row)
			an, aok := a.Number()
			bn, bok := b.Number()
			switch {
			case aok && bok:
				return finite(an + bn)
			case a.IsNull() || b.IsNull():
				return NullValue
			}
			return concat(a, b)
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
			return finite(v) // overflow and 0/0 give null, as the math functions do
		}
		return NullValue
	}
}

// compileConcat compiles a chain a . b . c as one concatenation: folding it
// pair by pair copied the growing string at every step, quadratic in the
// length of the chain.
func compileConcat(e *spl.Binary, x *exprEnv) (evalFn, error) {
	var parts []spl.Expr
	var cur spl.Expr = e
	for {
		b, ok := cur.(*spl.Binary)
		if !ok || b.Op != "." {
			break
		}
		parts = append(parts, b.R)
		cur = b.L
	}
	parts = append(parts, cur)
	fs := make([]evalFn, len(parts))
	for i, p := range parts {
		f, err := compileExpr(p, x)
		if err != nil {
			return nil, err
		}
		fs[len(parts)-1-i] = f
	}
	return func(row *Row) Value {
		vs := make([]Value, len(fs))
		for i, f := range fs {
			vs[i] = f(row)
		}
		return concat(vs...)
	}, nil
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

// likeMatch matches s against a SQL LIKE pattern (% any run, _ one
// character). It backtracks only to the last %, so its time is bounded by
// len(s)*len(pat); trying every split at every % was exponential in the
// number of %s.
func likeMatch(s, pat string) bool {
	sr, pr := []rune(s), []rune(pat)
	i, j := 0, 0
	star, mark := -1, 0 // the last % seen in pat, and where in s it resumes
	for i < len(sr) {
		switch {
		case j < len(pr) && pr[j] == '%':
			star, mark = j, i
			j++
		case j < len(pr) && (pr[j] == '_' || pr[j] == sr[i]):
			i++
			j++
		case star >= 0:
			mark++
			i, j = mark, star+1
		default:
			return false
		}
	}
	for j < len(pr) && pr[j] == '%' {
		j++
	}
	return j == len(pr)
}

// WildcardMatch matches s against pat, whose * matches any run of
// characters (the field lists of fit and apply use it).
func WildcardMatch(pat, s string) bool { return wildcardMatch(pat, s, false) }

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

// anyCompare compares multivalues as Splunk does: true when some value of
// one side compares true with some value of the other.
func anyCompare(op string, a, b Value) bool {
	for _, x := range a.Values() {
		for _, y := range b.Values() {
			if cmpOp(op, Compare(StrValue(x), StrValue(y))) {
				return true
			}
		}
	}
	return false
}
