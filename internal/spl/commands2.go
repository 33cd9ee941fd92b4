package spl

import "strings"

// Subsearch is a pipeline in brackets: [search ... | ...].
type Subsearch struct {
	Pos      Pos
	Pipeline *Pipeline
}

func (s *Subsearch) String() string { return "[" + s.Pipeline.String() + "]" }

// Timechart aggregates rows into time buckets of _time:
// timechart [span=S] [limit=N] [useother=B] AGG... [by FIELD].
type Timechart struct {
	Pos     Pos
	Options []Option
	Aggs    []Agg
	By      string
}

// Chart aggregates rows into a table with a row per value of Over and,
// given By, a column per value of By:
// chart [limit=N] [useother=B] [usenull=B] AGG, ... [over ROW] [by COL]
// (or by ROW COL).
type Chart struct {
	Pos     Pos
	Options []Option
	Aggs    []Agg
	Over    string
	By      string
}

// Bin puts a field's values into buckets: bin [span=S] FIELD [as NAME].
type Bin struct {
	Pos     Pos
	Options []Option
	Field   string
	As      string
}

// Fillnull sets missing or null fields to Value (default 0):
// fillnull [value=V] [FIELD...].
type Fillnull struct {
	Pos     Pos
	Options []Option
	Fields  []string
}

// Makemv splits a field into a multivalue:
// makemv [delim=S | tokenizer=RE] [allowempty=B] FIELD.
type Makemv struct {
	Pos     Pos
	Options []Option
	Field   string
}

// Spath extracts fields from JSON:
// spath [input=FIELD] [output=FIELD] [path=PATH | PATH].
type Spath struct {
	Pos     Pos
	Options []Option
	Path    string // "" with path= or without a path
}

// Mvexpand makes one row per value of a multivalue field:
// mvexpand FIELD [limit=N].
type Mvexpand struct {
	Pos     Pos
	Options []Option
	Field   string
}

// Rex extracts fields with a regular expression's named groups, or with
// mode=sed edits a field: rex [field=F] [max_match=N] [mode=sed] "RE".
type Rex struct {
	Pos     Pos
	Options []Option
	Regex   string
}

// Top counts the most (Rare: least) common values of fields:
// top [limit=N] [countfield=F] [percentfield=F] [showcount=B] [showperc=B] FIELD... [by FIELD...].
type Top struct {
	Pos     Pos
	Rare    bool
	Options []Option
	Fields  []string
	By      []string
}

// Sample keeps a random part of the rows: sample ratio=R | count=N
// [seed=S], or partitions=N [seed=S] to number them.
type Sample struct {
	Pos     Pos
	Options []Option
}

// Conversion is one FUNC(FIELD) [as NAME] of convert.
type Conversion struct {
	Pos   Pos
	Func  string
	Field string
	As    string
}

// Convert converts field values: convert [timeformat=F] FUNC(FIELD) [as NAME]...
type Convert struct {
	Pos         Pos
	Options     []Option
	Conversions []Conversion
}

// Lookup enriches rows from a lookup table:
// lookup NAME FIELD [as FIELD]... [OUTPUT|OUTPUTNEW FIELD [as FIELD]...].
// In each pair From is the lookup's field and To the row's.
type Lookup struct {
	Pos     Pos
	Table   string
	Inputs  []RenamePair
	Output  string // "OUTPUT", "OUTPUTNEW" or "" (every other lookup field)
	Outputs []RenamePair
}

// Append runs a subsearch and adds its rows after the input's:
// append [maxout=N] [maxtime=S] [SUBSEARCH]. Appendpipe (Pipe) runs the
// subpipeline over the input rows instead and adds its output.
type Append struct {
	Pos     Pos
	Pipe    bool
	Options []Option
	Sub     *Subsearch
}

// Foreach runs a template pipeline once per field matching Fields, with
// <<FIELD>> (and <<MATCHSTR>>) replaced: foreach FIELD... [eval <<FIELD>> = ...].
// Body is the text between the brackets; Sub is it parsed with the
// placeholders standing for a field, to check its syntax.
type Foreach struct {
	Pos     Pos
	Options []Option
	Fields  []string
	Body    string
	BodyPos Pos
	Sub     *Pipeline
}

// Join adds the fields of a subsearch's rows matching on Fields:
// join [type=inner|left|outer] [max=N] [overwrite=B] FIELD... [SUBSEARCH].
type Join struct {
	Pos     Pos
	Options []Option
	Fields  []string
	Sub     *Subsearch
}

func (c *Timechart) Name() string { return "timechart" }
func (c *Bin) Name() string       { return "bin" }
func (c *Chart) Name() string     { return "chart" }
func (c *Fillnull) Name() string  { return "fillnull" }
func (c *Makemv) Name() string    { return "makemv" }
func (c *Spath) Name() string     { return "spath" }
func (c *Mvexpand) Name() string  { return "mvexpand" }
func (c *Rex) Name() string       { return "rex" }
func (c *Sample) Name() string    { return "sample" }
func (c *Convert) Name() string   { return "convert" }
func (c *Lookup) Name() string    { return "lookup" }
func (c *Foreach) Name() string   { return "foreach" }
func (c *Join) Name() string      { return "join" }

func (c *Top) Name() string {
	if c.Rare {
		return "rare"
	}
	return "top"
}

func (c *Append) Name() string {
	if c.Pipe {
		return "appendpipe"
	}
	return "append"
}

func (c *Timechart) Position() Pos { return c.Pos }
func (c *Bin) Position() Pos       { return c.Pos }
func (c *Chart) Position() Pos     { return c.Pos }
func (c *Fillnull) Position() Pos  { return c.Pos }
func (c *Makemv) Position() Pos    { return c.Pos }
func (c *Spath) Position() Pos     { return c.Pos }
func (c *Mvexpand) Position() Pos  { return c.Pos }
func (c *Rex) Position() Pos       { return c.Pos }
func (c *Top) Position() Pos       { return c.Pos }
func (c *Sample) Position() Pos    { return c.Pos }
func (c *Convert) Position() Pos   { return c.Pos }
func (c *Lookup) Position() Pos    { return c.Pos }
func (c *Append) Position() Pos    { return c.Pos }
func (c *Foreach) Position() Pos   { return c.Pos }
func (c *Join) Position() Pos      { return c.Pos }

// OptionValue returns the value of option key in opts, if present.
func OptionValue(opts []Option, key string) (string, bool) {
	for _, o := range opts {
		if o.Key == key {
			return o.Value, true
		}
	}
	return "", false
}

// FindOption returns option key in opts, if present.
func FindOption(opts []Option, key string) (Option, bool) {
	for _, o := range opts {
		if o.Key == key {
			return o, true
		}
	}
	return Option{}, false
}

// cmdString joins a command's name, its options and further parts.
func cmdString(name string, opts []Option, parts ...string) string {
	out := []string{name}
	for _, o := range opts {
		out = append(out, o.String())
	}
	for _, p := range parts {
		if p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, " ")
}

func aggsString(aggs []Agg) string {
	parts := make([]string, len(aggs))
	for i, a := range aggs {
		parts[i] = a.String()
	}
	return strings.Join(parts, ", ")
}

func pairsString(ps []RenamePair) string {
	parts := make([]string, len(ps))
	for i, p := range ps {
		parts[i] = word(p.From)
		if p.To != p.From {
			parts[i] += " as " + word(p.To)
		}
	}
	return strings.Join(parts, ", ")
}

func (c *Timechart) String() string {
	by := ""
	if c.By != "" {
		by = "by " + word(c.By)
	}
	return cmdString("timechart", c.Options, aggsString(c.Aggs), by)
}

func (c *Chart) String() string {
	var parts []string
	if c.Over != "" {
		parts = append(parts, "over "+word(c.Over))
	}
	if c.By != "" {
		parts = append(parts, "by "+word(c.By))
	}
	return cmdString("chart", c.Options, aggsString(c.Aggs), strings.Join(parts, " "))
}

func (c *Bin) String() string {
	as := ""
	if c.As != "" {
		as = "as " + word(c.As)
	}
	return cmdString("bin", c.Options, word(c.Field), as)
}

func (c *Fillnull) String() string { return cmdString("fillnull", c.Options, words(c.Fields, " ")) }
func (c *Makemv) String() string   { return cmdString("makemv", c.Options, word(c.Field)) }
func (c *Spath) String() string {
	if c.Path == "" {
		return cmdString("spath", c.Options)
	}
	return cmdString("spath", c.Options, word(c.Path))
}
func (c *Mvexpand) String() string { return cmdString("mvexpand", c.Options, word(c.Field)) }
func (c *Rex) String() string      { return cmdString("rex", c.Options, quote(c.Regex)) }
func (c *Sample) String() string   { return cmdString("sample", c.Options) }

func (c *Top) String() string {
	by := ""
	if len(c.By) > 0 {
		by = "by " + words(c.By, ", ")
	}
	return cmdString(c.Name(), c.Options, words(c.Fields, ", "), by)
}

func (c *Convert) String() string {
	parts := make([]string, len(c.Conversions))
	for i, cv := range c.Conversions {
		parts[i] = cv.Func + "(" + word(cv.Field) + ")"
		if cv.As != "" {
			parts[i] += " as " + word(cv.As)
		}
	}
	return cmdString("convert", c.Options, strings.Join(parts, " "))
}

func (c *Lookup) String() string {
	out := ""
	if c.Output != "" {
		out = c.Output + " " + pairsString(c.Outputs)
	}
	return cmdString("lookup", nil, word(c.Table), pairsString(c.Inputs), out)
}

func (c *Append) String() string { return cmdString(c.Name(), c.Options, c.Sub.String()) }

func (c *Foreach) String() string {
	return cmdString("foreach", c.Options, words(c.Fields, " "), "["+c.Body+"]")
}

func (c *Join) String() string {
	return cmdString("join", c.Options, words(c.Fields, ", "), c.Sub.String())
}
