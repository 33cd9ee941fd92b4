package spl

import (
	"strings"
)

// Expr is an eval or where expression.
type Expr interface {
	Position() Pos
	String() string
}

// Number is a numeric literal; Text is as written.
type Number struct {
	Pos   Pos
	Text  string
	Value float64
}

// String is a double-quoted string literal.
type String struct {
	Pos   Pos
	Value string
}

// FieldRef names a field: a bare identifier, or 'single quoted'.
type FieldRef struct {
	Pos  Pos
	Name string
}

// Unary is -X or NOT X.
type Unary struct {
	Pos Pos
	Op  string // "-" or "NOT"
	X   Expr
}

// Binary is L Op R. Op is one of OR AND = != < <= > >= + - . * / %.
type Binary struct {
	Pos  Pos
	Op   string
	L, R Expr
}

// Call is a function call such as if(x > 1, "big", "small").
type Call struct {
	Pos  Pos
	Func string // lower case
	Args []Expr
}

func (e *Number) Position() Pos   { return e.Pos }
func (e *String) Position() Pos   { return e.Pos }
func (e *FieldRef) Position() Pos { return e.Pos }
func (e *Unary) Position() Pos    { return e.Pos }
func (e *Binary) Position() Pos   { return e.Pos }
func (e *Call) Position() Pos     { return e.Pos }

func (e *Number) String() string   { return e.Text }
func (e *String) String() string   { return quote(e.Value) }
func (e *FieldRef) String() string { return fieldName(e.Name) }

func (e *Unary) String() string {
	x := e.X.String()
	if prec(e.X) < unaryPrec(e.Op) {
		x = "(" + x + ")"
	}
	if e.Op == "NOT" {
		return "NOT " + x
	}
	if strings.HasPrefix(x, "-") { // keep "- -x" from reading as one token
		return "- " + x
	}
	return "-" + x
}

func (e *Binary) String() string {
	p := binPrec(e.Op)
	l, r := e.L.String(), e.R.String()
	if prec(e.L) < p {
		l = "(" + l + ")"
	}
	if prec(e.R) <= p {
		r = "(" + r + ")"
	}
	return l + " " + e.Op + " " + r
}

func (e *Call) String() string {
	args := make([]string, len(e.Args))
	for i, a := range e.Args {
		args[i] = a.String()
	}
	return e.Func + "(" + strings.Join(args, ", ") + ")"
}

// Operator precedences, loosest first.
const (
	precOr = iota + 1
	precAnd
	precNot
	precCmp
	precAdd
	precMul
	precNeg
	precPrimary
)

func binPrec(op string) int {
	switch op {
	case "OR":
		return precOr
	case "AND":
		return precAnd
	case "=", "!=", "<", "<=", ">", ">=":
		return precCmp
	case "+", "-", ".":
		return precAdd
	default:
		return precMul
	}
}

func unaryPrec(op string) int {
	if op == "NOT" {
		return precNot
	}
	return precNeg
}

func prec(e Expr) int {
	switch e := e.(type) {
	case *Binary:
		return binPrec(e.Op)
	case *Unary:
		return unaryPrec(e.Op)
	}
	return precPrimary
}

// fieldName prints a field name bare when it lexes as one identifier, else
// single-quoted.
func fieldName(s string) string {
	if s != "" && isIdentStart(s[0]) && !exprKeyword(s) {
		ok := true
		for i := 0; i < len(s); i++ {
			c := s[i]
			if !(isIdentChar(c) || c == '.' && i+1 < len(s) && isIdentChar(s[i+1])) {
				ok = false
				break
			}
		}
		if ok {
			return s
		}
	}
	return quoteWith(s, '\'')
}

func exprKeyword(s string) bool {
	switch strings.ToUpper(s) {
	case "AND", "OR", "NOT":
		return true
	}
	return false
}
