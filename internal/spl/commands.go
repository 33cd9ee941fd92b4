package spl

import (
	"strconv"
	"strings"
)

// Search filters rows (or, first in a pipeline, reads events) by a boolean
// expression of terms. Implicit is true when the word "search" was not
// written (a pipeline that starts with terms).
type Search struct {
	Pos      Pos
	Implicit bool
	Expr     SearchExpr // nil: match everything
}

// Makeresults generates Count rows holding only _time.
type Makeresults struct {
	Pos      Pos
	Count    int
	CountSet bool
}

// Inputlookup reads the rows of a lookup table, those matching Where
// (search terms) if given.
type Inputlookup struct {
	Pos    Pos
	Lookup string
	Where  SearchExpr
}

// Outputlookup writes its input rows to a lookup table and passes them on.
type Outputlookup struct {
	Pos    Pos
	Lookup string
}

// Assign is one field = expression of an eval.
type Assign struct {
	Pos   Pos
	Field string
	Expr  Expr
}

// Eval computes fields.
type Eval struct {
	Pos     Pos
	Assigns []Assign
}

// Where keeps the rows for which Expr is true.
type Where struct {
	Pos  Pos
	Expr Expr
}

// Table keeps the named fields (wildcards allowed), in that order.
type Table struct {
	Pos    Pos
	Fields []string
}

// Fields keeps (or, with Remove, drops) the named fields.
type Fields struct {
	Pos    Pos
	Remove bool
	Fields []string
}

// RenamePair is one `from AS to`; wildcards map * to *.
type RenamePair struct {
	From, To string
}

// Rename renames fields.
type Rename struct {
	Pos   Pos
	Pairs []RenamePair
}

// Head keeps the first N rows (default 10); Tail the last N.
type Head struct {
	Pos  Pos
	Tail bool
	N    int
	NSet bool
}

// SortKey is one sort field; Desc sorts descending.
type SortKey struct {
	Field string
	Desc  bool
}

// Sort orders rows; Limit (0: no limit) keeps the first Limit.
type Sort struct {
	Pos   Pos
	Limit int
	Keys  []SortKey
}

// Dedup keeps the first N (default 1) rows of each combination of Fields.
type Dedup struct {
	Pos         Pos
	N           int
	Fields      []string
	KeepEmpty   bool
	Consecutive bool
}

// Agg is one aggregation such as avg(b) AS mean_b.
type Agg struct {
	Pos   Pos
	Func  string // lower case
	Field string // empty for a bare count
	As    string // empty: the default name, Func(Field) or count
}

// OutName is the field the aggregation writes.
func (a Agg) OutName() string {
	switch {
	case a.As != "":
		return a.As
	case a.Field == "":
		return a.Func
	}
	return a.Func + "(" + a.Field + ")"
}

func (a Agg) String() string {
	s := a.Func
	if a.Field != "" {
		s += "(" + word(a.Field) + ")"
	}
	if a.As != "" {
		s += " as " + word(a.As)
	}
	return s
}

// Stats aggregates rows, grouped by By. Streaming (streamstats) adds the
// running aggregates to each row instead; Event (eventstats) adds each
// group's aggregates to every row of the group.
type Stats struct {
	Pos       Pos
	Streaming bool
	Event     bool
	Aggs      []Agg
	By        []string
}

func (c *Search) Name() string       { return "search" }
func (c *Makeresults) Name() string  { return "makeresults" }
func (c *Inputlookup) Name() string  { return "inputlookup" }
func (c *Outputlookup) Name() string { return "outputlookup" }
func (c *Eval) Name() string         { return "eval" }
func (c *Where) Name() string        { return "where" }
func (c *Table) Name() string        { return "table" }
func (c *Fields) Name() string       { return "fields" }
func (c *Rename) Name() string       { return "rename" }
func (c *Sort) Name() string         { return "sort" }
func (c *Dedup) Name() string        { return "dedup" }

func (c *Head) Name() string {
	if c.Tail {
		return "tail"
	}
	return "head"
}

func (c *Stats) Name() string {
	switch {
	case c.Streaming:
		return "streamstats"
	case c.Event:
		return "eventstats"
	}
	return "stats"
}

func (c *Search) Position() Pos       { return c.Pos }
func (c *Makeresults) Position() Pos  { return c.Pos }
func (c *Inputlookup) Position() Pos  { return c.Pos }
func (c *Outputlookup) Position() Pos { return c.Pos }
func (c *Eval) Position() Pos         { return c.Pos }
func (c *Where) Position() Pos        { return c.Pos }
func (c *Table) Position() Pos        { return c.Pos }
func (c *Fields) Position() Pos       { return c.Pos }
func (c *Rename) Position() Pos       { return c.Pos }
func (c *Head) Position() Pos         { return c.Pos }
func (c *Sort) Position() Pos         { return c.Pos }
func (c *Dedup) Position() Pos        { return c.Pos }
func (c *Stats) Position() Pos        { return c.Pos }

func (c *Search) String() string {
	switch {
	case c.Expr == nil && c.Implicit:
		return "*"
	case c.Expr == nil:
		return "search"
	case c.Implicit:
		return c.Expr.String()
	}
	return "search " + c.Expr.String()
}

func (c *Makeresults) String() string {
	if c.CountSet {
		return "makeresults count=" + itoa(c.Count)
	}
	return "makeresults"
}

func (c *Inputlookup) String() string {
	if c.Where != nil {
		return "inputlookup " + word(c.Lookup) + " where " + c.Where.String()
	}
	return "inputlookup " + word(c.Lookup)
}
func (c *Outputlookup) String() string { return "outputlookup " + word(c.Lookup) }

func (c *Eval) String() string {
	parts := make([]string, len(c.Assigns))
	for i, a := range c.Assigns {
		parts[i] = fieldName(a.Field) + " = " + a.Expr.String()
	}
	return "eval " + strings.Join(parts, ", ")
}

func (c *Where) String() string { return "where " + c.Expr.String() }
func (c *Table) String() string { return "table " + words(c.Fields, ", ") }

func (c *Fields) String() string {
	if c.Remove {
		return "fields - " + words(c.Fields, ", ")
	}
	return "fields " + words(c.Fields, ", ")
}

func (c *Rename) String() string {
	parts := make([]string, len(c.Pairs))
	for i, p := range c.Pairs {
		parts[i] = word(p.From) + " as " + word(p.To)
	}
	return "rename " + strings.Join(parts, ", ")
}

func (c *Head) String() string {
	if c.NSet {
		return c.Name() + " " + itoa(c.N)
	}
	return c.Name()
}

func (c *Sort) String() string {
	s := "sort "
	if c.Limit > 0 || len(c.Keys) > 0 && !c.Keys[0].Desc && isInt(c.Keys[0].Field) {
		s += itoa(c.Limit) + " "
	}
	parts := make([]string, len(c.Keys))
	for i, k := range c.Keys {
		if k.Desc {
			parts[i] = "-" + word(k.Field)
		} else {
			parts[i] = word(k.Field)
		}
	}
	return s + strings.Join(parts, ", ")
}

func (c *Dedup) String() string {
	s := "dedup "
	if c.N > 1 || len(c.Fields) > 0 && isInt(c.Fields[0]) {
		s += itoa(c.N) + " "
	}
	s += words(c.Fields, ", ")
	if c.KeepEmpty {
		s += " keepempty=true"
	}
	if c.Consecutive {
		s += " consecutive=true"
	}
	return s
}

func (c *Stats) String() string {
	parts := make([]string, len(c.Aggs))
	for i, a := range c.Aggs {
		parts[i] = a.String()
	}
	s := c.Name() + " " + strings.Join(parts, ", ")
	if len(c.By) > 0 {
		s += " by " + words(c.By, ", ")
	}
	return s
}

func isInt(s string) bool {
	_, err := strconv.Atoi(s)
	return err == nil && isDigit(s[0])
}
