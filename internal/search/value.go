// Package search runs ML-SPL searches: it compiles a parsed spl.Pipeline
// into commands that stream rows through Go iterators, and runs them under
// the caller's identity with per-search limits on rows and time. Generating
// commands read from interfaces other packages implement: Lookups (CSV
// lookup tables), Events (event indexes) and ML (fit, apply and the model
// commands).
package search

import (
	"math"
	"strconv"
	"strings"
)

// Kind is the type of a Value.
type Kind uint8

// Value kinds.
const (
	Null Kind = iota
	Num
	Str
	Multi
)

// Value is one field value: null, a number, a string, or a multivalue (a
// list of strings). Strings that look like numbers compare and compute as
// numbers, as in Splunk.
type Value struct {
	kind Kind
	num  float64
	str  string
	mv   *[]string // only for Multi; a pointer keeps Value small
}

// NullValue is the null value.
var NullValue = Value{}

// NumValue returns a number.
func NumValue(f float64) Value { return Value{kind: Num, num: f} }

// StrValue returns a string.
func StrValue(s string) Value { return Value{kind: Str, str: s} }

// MultiValue returns a multivalue; one element is a plain string, none null.
func MultiValue(vs []string) Value {
	switch len(vs) {
	case 0:
		return NullValue
	case 1:
		return StrValue(vs[0])
	}
	return Value{kind: Multi, mv: &vs}
}

// Kind returns the value's kind.
func (v Value) Kind() Kind { return v.kind }

// IsNull reports whether v is null.
func (v Value) IsNull() bool { return v.kind == Null }

// Values returns the elements of a multivalue, or the value as one element.
func (v Value) Values() []string {
	switch v.kind {
	case Null:
		return nil
	case Multi:
		return *v.mv
	}
	return []string{v.String()}
}

// String formats the value: numbers in their shortest form (integers
// without a decimal point), multivalues joined by newlines, null as "".
func (v Value) String() string {
	switch v.kind {
	case Num:
		return formatNum(v.num)
	case Str:
		return v.str
	case Multi:
		return strings.Join(*v.mv, "\n")
	}
	return ""
}

// appendValue appends the value's text to buf without allocating.
func appendValue(buf []byte, v Value) []byte {
	switch v.kind {
	case Num:
		if v.num == math.Trunc(v.num) && math.Abs(v.num) < 1e15 {
			return strconv.AppendInt(buf, int64(v.num), 10)
		}
		return strconv.AppendFloat(buf, v.num, floatFormat(v.num), -1, 64)
	case Str:
		return append(buf, v.str...)
	}
	return append(buf, v.String()...)
}

func formatNum(f float64) string {
	if f == math.Trunc(f) && math.Abs(f) < 1e15 {
		return strconv.FormatInt(int64(f), 10)
	}
	return strconv.FormatFloat(f, floatFormat(f), -1, 64)
}

// floatFormat prints numbers of everyday size in plain decimals (an epoch
// time as 1795670347.504183, not 1.795670347504183e+09) and only the very
// large and very small with an exponent.
func floatFormat(f float64) byte {
	if a := math.Abs(f); a != 0 && (a < 1e-6 || a >= 1e21) {
		return 'g'
	}
	return 'f'
}

// Number returns the value as a number: numbers as they are, strings that
// parse as numbers, else ok is false.
func (v Value) Number() (float64, bool) {
	switch v.kind {
	case Num:
		return v.num, true
	case Str:
		return parseNum(v.str)
	}
	return 0, false
}

func parseNum(s string) (float64, bool) {
	if s == "" {
		return 0, false
	}
	c := s[0]
	if !(c >= '0' && c <= '9' || c == '-' || c == '+' || c == '.') {
		return 0, false // fast path, and keeps "inf"/"nan" strings
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	return f, err == nil
}

// Truthy reports whether v counts as true in a boolean context.
func (v Value) Truthy() bool {
	switch v.kind {
	case Num:
		return v.num != 0
	case Str:
		return v.str != "" && v.str != "false" && v.str != "0"
	case Multi:
		return true
	}
	return false
}

// Bool returns a boolean as a value: "true" or "false".
func Bool(b bool) Value {
	if b {
		return StrValue("true")
	}
	return StrValue("false")
}

// Compare orders a and b: nulls first, then numbers (numerically, strings
// that look like numbers included), then strings (lexically).
func Compare(a, b Value) int {
	if a.kind == Null || b.kind == Null {
		switch {
		case a.kind == b.kind:
			return 0
		case a.kind == Null:
			return -1
		}
		return 1
	}
	an, aok := a.Number()
	bn, bok := b.Number()
	switch {
	case aok && bok:
		switch {
		case an < bn:
			return -1
		case an > bn:
			return 1
		}
		return 0
	case aok:
		return -1
	case bok:
		return 1
	}
	return strings.Compare(a.String(), b.String())
}

// Equal reports whether a and b are the same value by Compare.
func Equal(a, b Value) bool { return Compare(a, b) == 0 }
