package spl

import (
	"strconv"
	"strings"
)

func (p *parser) searchCmd(name token) Command {
	p.mode = modeSearch
	return &Search{Pos: name.pos, Expr: p.searchAnd()}
}

// count parses a whole number option value.
func (p *parser) count(o Option) int {
	n, err := strconv.Atoi(o.Value)
	if err != nil || n < 0 {
		p.fail(o.Pos, "%s must be a whole number, found %q", o.Key, o.Value)
	}
	return n
}

func (p *parser) makeresults(name token) Command {
	c := &Makeresults{Pos: name.pos, Count: 1}
	for !p.atEnd() {
		if !p.isOption() {
			p.failExpected(p.peek(), `count=N or "|"`)
		}
		o := p.option()
		if o.Key != "count" {
			p.fail(o.Pos, "unknown option %q for makeresults: expected count=N", o.Key)
		}
		c.Count, c.CountSet = p.count(o), true
	}
	return c
}

func (p *parser) lookupName() (token, string) {
	t := p.word("a lookup name such as users.csv")
	if t.text == "" {
		p.fail(t.pos, "lookup name is empty")
	}
	return t, t.text
}

func (p *parser) inputlookup(name token) Command {
	_, n := p.lookupName()
	c := &Inputlookup{Pos: name.pos, Lookup: n}
	p.inputlookupWhere(c)
	return c
}

func (p *parser) outputlookup(name token) Command {
	_, n := p.lookupName()
	return &Outputlookup{Pos: name.pos, Lookup: n}
}

func (p *parser) eval(name token) Command {
	p.mode = modeExpr
	c := &Eval{Pos: name.pos}
	for {
		t := p.lx.scan(p.off, p.mode) // unchecked: "{" starts a template
		if name, ok := p.templateName(t); ok {
			t.text = name
		} else if t = p.check(t); t.kind != tIdent && t.kind != tQField && t.kind != tString || t.kind == tIdent && exprKeyword(t.text) {
			p.failExpected(t, "a field name to assign")
		} else {
			p.next()
		}
		p.expectOp("=")
		c.Assigns = append(c.Assigns, Assign{Pos: t.pos, Field: t.text, Expr: p.expr()})
		if p.peek().kind != tComma {
			break
		}
		p.next()
	}
	if !p.atEnd() {
		p.failExpected(p.peek(), `an operator, "," or "|"`)
	}
	return c
}

// templateName consumes a bare field name with {FIELD} parts, such as
// feature_{s}, which eval names after the value of FIELD.
func (p *parser) templateName(t token) (string, bool) {
	src := p.lx.src
	end := t.off
	braces := false
	for end < len(src) {
		c := src[end]
		switch {
		case c == '{':
			close := strings.IndexByte(src[end:], '}')
			if close < 2 || !validName(src[end+1:end+close], true) {
				return "", false
			}
			end += close + 1
			braces = true
			continue
		case isIdentChar(c) || c == '.' && end > t.off:
			end++
			continue
		}
		break
	}
	if !braces {
		return "", false
	}
	p.off = end
	return src[t.off:end], true
}

func (p *parser) where(name token) Command {
	p.mode = modeExpr
	x := p.expr()
	if !p.atEnd() {
		p.failExpected(p.peek(), `an operator or "|"`)
	}
	return &Where{Pos: name.pos, Expr: x}
}

// fieldList parses one or more field names, optionally comma separated, up
// to the end of the command or a stop word.
func (p *parser) fieldList(what string, stop ...string) []string {
	var out []string
	for {
		t := p.peek()
		if t.kind == tComma && len(out) > 0 {
			p.next()
			t = p.peek()
		}
		if t.kind != tWord && t.kind != tString || p.isOption() {
			break
		}
		if t.kind == tWord && stopWord(t.text, stop) {
			break
		}
		out = append(out, p.next().text)
	}
	if len(out) == 0 {
		p.failExpected(p.peek(), what)
	}
	return out
}

func stopWord(s string, stop []string) bool {
	for _, w := range stop {
		if strings.EqualFold(s, w) {
			return true
		}
	}
	return false
}

func (p *parser) table(name token) Command {
	return &Table{Pos: name.pos, Fields: p.fieldList("a field name")}
}

func (p *parser) fields(name token) Command {
	c := &Fields{Pos: name.pos}
	if t := p.peek(); t.kind == tWord && (t.text == "-" || t.text == "+") {
		p.next()
		c.Remove = t.text == "-"
	}
	c.Fields = p.fieldList("a field name")
	return c
}

func (p *parser) rename(name token) Command {
	c := &Rename{Pos: name.pos}
	for {
		from := p.word("a field name to rename")
		if !isWord(p.peek(), "as") {
			p.failExpected(p.peek(), `"as"`)
		}
		p.next()
		to := p.word("the new field name")
		c.Pairs = append(c.Pairs, RenamePair{From: from.text, To: to.text})
		if p.peek().kind == tComma {
			p.next()
		} else if p.atEnd() {
			return c
		}
	}
}

// leadingInt consumes a bare whole number if one comes next.
func (p *parser) leadingInt() (int, bool) {
	t := p.peek()
	if t.kind != tWord {
		return 0, false
	}
	n, err := strconv.Atoi(t.text)
	if err != nil || n < 0 || !isDigit(t.text[0]) {
		return 0, false
	}
	p.next()
	return n, true
}

func (p *parser) head(name token) Command {
	c := &Head{Pos: name.pos, Tail: strings.EqualFold(name.text, "tail"), N: 10}
	if n, ok := p.leadingInt(); ok {
		c.N, c.NSet = n, true
	} else if p.isOption() {
		o := p.option()
		if o.Key != "limit" {
			p.fail(o.Pos, "unknown option %q for %s: expected a number or limit=N", o.Key, c.Name())
		}
		c.N, c.NSet = p.count(o), true
	}
	return c
}

func (p *parser) sort(name token) Command {
	c := &Sort{Pos: name.pos}
	if n, ok := p.leadingInt(); ok {
		c.Limit = n
	}
	for {
		t := p.peek()
		if t.kind == tComma && len(c.Keys) > 0 {
			p.next()
			t = p.peek()
		}
		if t.kind != tWord && t.kind != tString {
			break
		}
		p.next()
		k := SortKey{Field: t.text}
		if t.kind == tWord && (t.text == "-" || t.text == "+") {
			k.Field = p.word("a field name after " + quote(t.text)).text
			k.Desc = t.text == "-"
		} else if t.kind == tWord && (t.text[0] == '-' || t.text[0] == '+') {
			k.Field, k.Desc = t.text[1:], t.text[0] == '-'
		}
		c.Keys = append(c.Keys, k)
	}
	if len(c.Keys) == 0 {
		p.failExpected(p.peek(), "a field to sort by")
	}
	return c
}

func (p *parser) boolOption(o Option) bool {
	b, err := strconv.ParseBool(o.Value)
	if err != nil {
		p.fail(o.Pos, "%s must be true or false, found %q", o.Key, o.Value)
	}
	return b
}

func (p *parser) dedup(name token) Command {
	c := &Dedup{Pos: name.pos, N: 1}
	if n, ok := p.leadingInt(); ok {
		if n < 1 {
			p.fail(name.pos, "dedup count must be at least 1")
		}
		c.N = n
	}
	for !p.atEnd() {
		if p.isOption() {
			o := p.option()
			switch o.Key {
			case "keepempty":
				c.KeepEmpty = p.boolOption(o)
			case "consecutive":
				c.Consecutive = p.boolOption(o)
			default:
				p.fail(o.Pos, "unknown option %q for dedup: expected keepempty= or consecutive=", o.Key)
			}
			continue
		}
		c.Fields = append(c.Fields, p.fieldList("a field name")...)
	}
	if len(c.Fields) == 0 {
		p.failExpected(p.peek(), "a field name")
	}
	return c
}

// StatsFuncs are the aggregation functions stats, streamstats, eventstats
// and timechart accept; percN, pN, exactpercN and upperpercN take any N
// from 0 to 100 (perc95, p99.9).
var StatsFuncs = []string{"count", "c", "dc", "distinct_count", "sum", "avg", "mean",
	"min", "max", "range", "median", "mode", "stdev", "stdevp", "var", "varp", "values", "list",
	"first", "last", "earliest", "latest", "percN"}

// IsStatsFunc reports whether fn (lower case) is an aggregation function.
func IsStatsFunc(fn string) bool {
	if _, ok := PercentileOf(fn); ok {
		return true
	}
	return fn != "percn" && stopWord(fn, StatsFuncs)
}

// PercentileOf returns N for percN, pN, exactpercN and upperpercN.
func PercentileOf(fn string) (float64, bool) {
	for _, pre := range []string{"exactperc", "upperperc", "perc", "p"} {
		if rest, ok := strings.CutPrefix(fn, pre); ok && rest != "" && (isDigit(rest[0]) || rest[0] == '.') {
			n, err := strconv.ParseFloat(rest, 64)
			return n, err == nil && n >= 0 && n <= 100
		}
	}
	return 0, false
}

func (p *parser) stats(name token) Command {
	c := &Stats{Pos: name.pos, Streaming: strings.EqualFold(name.text, "streamstats"), Event: strings.EqualFold(name.text, "eventstats")}
	c.Aggs = p.aggs(c.Name(), "by")
	if isWord(p.peek(), "by") {
		p.next()
		c.By = p.fieldList("a field name after \"by\"")
	}
	return c
}

// aggs parses aggregations such as count, avg(x) as m, sum(bytes_*) up to
// the end of the command or a stop word.
func (p *parser) aggs(cmd string, stop ...string) []Agg {
	var out []Agg
	for !p.atEnd() && !(p.peek().kind == tWord && stopWord(p.peek().text, stop)) {
		if len(out) > 0 && p.peek().kind == tComma {
			p.next()
		}
		if p.isOption() {
			break
		}
		t := p.expectKind(tWord, "a function such as count or avg(FIELD)")
		a := Agg{Pos: t.pos, Func: strings.ToLower(t.text)}
		if !IsStatsFunc(a.Func) {
			p.fail(t.pos, "unknown %s function %q: expected one of %s", cmd, t.text, strings.Join(StatsFuncs, ", "))
		}
		if p.peek().kind == tLParen {
			p.next()
			a.Field = p.word("a field name").text
			p.expectKind(tRParen, `")"`)
		} else if a.Func != "count" && a.Func != "c" {
			p.failExpected(p.peek(), `"(" and a field name after `+a.Func)
		}
		if isWord(p.peek(), "as") {
			p.next()
			a.As = p.word("a name after \"as\"").text
		}
		out = append(out, a)
	}
	if len(out) == 0 {
		p.failExpected(p.peek(), "a function such as count or avg(FIELD)")
	}
	return out
}
