package spl

import "strings"

// SearchExpr is a boolean expression of search terms, as written after
// `search` (or at the start of a search). Juxtaposed terms are ANDed; OR
// binds tighter than AND, as in Splunk: `a b OR c` is `a AND (b OR c)`.
type SearchExpr interface {
	Position() Pos
	String() string
}

// SearchAnd is terms that must all match.
type SearchAnd struct {
	Pos   Pos
	Terms []SearchExpr
}

// SearchOr is terms of which one must match.
type SearchOr struct {
	Pos   Pos
	Terms []SearchExpr
}

// SearchNot negates X.
type SearchNot struct {
	Pos Pos
	X   SearchExpr
}

// SearchGroup is a parenthesised expression.
type SearchGroup struct {
	Pos Pos
	X   SearchExpr
}

// Term is a bare word (which may hold * wildcards) or a "quoted phrase".
type Term struct {
	Pos    Pos
	Text   string
	Quoted bool
}

// Compare is field OP value, OP one of = != < <= > >=. The value may hold
// * wildcards (for = and !=) unless Quoted.
type Compare struct {
	Pos    Pos
	Field  string
	Op     string
	Value  string
	Quoted bool
}

// SearchSub is a subsearch among search terms: its rows become terms when
// the search runs (each row field=value ANDed, the rows ORed), as
// Splunk's implicit format does.
type SearchSub struct {
	Pos Pos
	Sub *Subsearch
}

func (e *SearchSub) Position() Pos  { return e.Pos }
func (e *SearchSub) String() string { return e.Sub.String() }

func (e *SearchAnd) Position() Pos   { return e.Pos }
func (e *SearchOr) Position() Pos    { return e.Pos }
func (e *SearchNot) Position() Pos   { return e.Pos }
func (e *SearchGroup) Position() Pos { return e.Pos }
func (e *Term) Position() Pos        { return e.Pos }
func (e *Compare) Position() Pos     { return e.Pos }

func (e *SearchAnd) String() string { return joinSearch(e.Terms, " ") }
func (e *SearchOr) String() string  { return joinSearch(e.Terms, " OR ") }
func (e *SearchNot) String() string { return "NOT " + e.X.String() }
func (e *SearchGroup) String() string {
	return "(" + e.X.String() + ")"
}

func (e *Term) String() string {
	if e.Quoted || !searchWord(e.Text) {
		return quote(e.Text)
	}
	return e.Text
}

func (e *Compare) String() string {
	v := e.Value
	if e.Quoted || !searchWord(v) {
		v = quote(v)
	}
	f := e.Field
	if !searchWord(f) {
		f = quote(f)
	}
	if strings.HasSuffix(f, "!") { // "a!=" would read as a != ...
		return f + " " + e.Op + v
	}
	return f + e.Op + v
}

func joinSearch(ts []SearchExpr, sep string) string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = t.String()
	}
	return strings.Join(out, sep)
}

// searchWord reports whether s lexes as one bare word in search mode and is
// not a boolean keyword.
func searchWord(s string) bool {
	if s == "" || s == "AND" || s == "OR" || s == "NOT" {
		return false
	}
	for i := 0; i < len(s); i++ {
		var next byte
		if i+1 < len(s) {
			next = s[i+1]
		}
		if wordStop(s[i], next, modeSearch) || s[i] == ']' {
			return false
		}
	}
	return true
}
