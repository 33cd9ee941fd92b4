package spl

import (
	"strconv"
	"strings"
)

// knownOption consumes key=value and checks key against the command's
// options.
func (p *parser) knownOption(cmd string, known ...string) Option {
	o := p.option()
	if !stopWord(o.Key, known) {
		p.fail(o.Pos, "unknown option %q for %s: expected one of %s", o.Key, cmd, strings.Join(addEq(known), ", "))
	}
	switch o.Key {
	case "limit", "max_match", "maxout", "count", "partitions", "max", "seed":
		p.count(o)
	case "ratio":
		if f, err := strconv.ParseFloat(o.Value, 64); err != nil || f < 0 || f > 1 {
			p.fail(o.Pos, "ratio must be a number from 0 to 1, found %q", o.Value)
		}
	case "allowempty", "useother", "showcount", "showperc", "overwrite", "setsv":
		p.boolOption(o)
	}
	return o
}

func addEq(ks []string) []string {
	out := make([]string, len(ks))
	for i, k := range ks {
		out[i] = k + "="
	}
	return out
}

func (p *parser) timechart(name token) Command {
	c := &Timechart{Pos: name.pos}
	known := []string{"span", "limit", "useother", "bins"}
	for p.isOption() {
		c.Options = append(c.Options, p.knownOption("timechart", known...))
	}
	c.Aggs = p.aggs("timechart", "by")
	if isWord(p.peek(), "by") {
		p.next()
		c.By = p.word("a field name after \"by\"").text
	}
	for p.isOption() {
		c.Options = append(c.Options, p.knownOption("timechart", known...))
	}
	p.checkBins("timechart", c.Options)
	return c
}

func (p *parser) chart(name token) Command {
	c := &Chart{Pos: name.pos}
	known := []string{"limit", "useother", "usenull"}
	for p.isOption() {
		c.Options = append(c.Options, p.knownOption("chart", known...))
	}
	c.Aggs = p.aggs("chart", "over", "by")
	if isWord(p.peek(), "over") {
		p.next()
		c.Over = p.word(`a field name after "over"`).text
	}
	if isWord(p.peek(), "by") {
		by := p.next()
		first := p.word(`a field name after "by"`).text
		switch {
		case c.Over != "":
			c.By = first
		case !p.atEnd() && !p.isOption():
			c.Over = first
			if p.peek().kind == tComma {
				p.next()
			}
			c.By = p.word(`a second field name after "by"`).text
		default:
			c.Over = first
		}
		if !p.atEnd() && !p.isOption() {
			p.fail(by.pos, "chart takes at most two fields: a row field and a column field (chart AGG over ROW by COL, or by ROW COL)")
		}
	}
	for p.isOption() {
		c.Options = append(c.Options, p.knownOption("chart", known...))
	}
	return c
}

// checkBins checks bins= of cmd: a whole number of 1 or more.
func (p *parser) checkBins(cmd string, opts []Option) {
	if o, ok := FindOption(opts, "bins"); ok {
		if n, err := strconv.Atoi(o.Value); err != nil || n < 1 {
			p.fail(o.Pos, "%s bins=%q: give the most buckets as a whole number of 1 or more, such as bins=10", cmd, o.Value)
		}
	}
}

func (p *parser) bin(name token) Command {
	c := &Bin{Pos: name.pos}
	for !p.atEnd() {
		switch t := p.peek(); {
		case p.isOption():
			c.Options = append(c.Options, p.knownOption("bin", "span", "bins", "start", "end", "aligntime"))
		case isWord(t, "as") && c.Field != "" && c.As == "":
			p.next()
			c.As = p.word(`a field name after "as"`).text
		case c.Field == "":
			c.Field = p.word("a field name such as _time").text
		default:
			p.failExpected(t, `key=value, "as NAME" or "|"`)
		}
	}
	if c.Field == "" {
		p.failExpected(p.peek(), "a field name such as _time")
	}
	p.checkBins("bin", c.Options)
	for _, o := range c.Options {
		switch o.Key {
		case "start", "end":
			if _, err := strconv.ParseFloat(o.Value, 64); err != nil {
				p.fail(o.Pos, "bin %s=%q: give a number, such as %s=0", o.Key, o.Value, o.Key)
			}
		case "aligntime":
			p.fail(o.Pos, "bin aligntime= is not supported: buckets align to the epoch in UTC (give span=)")
		}
	}
	return c
}

func (p *parser) fillnull(name token) Command {
	c := &Fillnull{Pos: name.pos}
	for !p.atEnd() {
		if p.isOption() {
			c.Options = append(c.Options, p.knownOption("fillnull", "value"))
			continue
		}
		c.Fields = append(c.Fields, p.fieldList("a field name")...)
	}
	return c
}

// oneField parses options and exactly one field name.
func (p *parser) oneField(cmd string, known ...string) ([]Option, string) {
	var opts []Option
	field := ""
	for !p.atEnd() {
		if p.isOption() {
			opts = append(opts, p.knownOption(cmd, known...))
			continue
		}
		if field != "" {
			p.failExpected(p.peek(), `key=value or "|"`)
		}
		field = p.word("a field name").text
	}
	if field == "" {
		p.failExpected(p.peek(), "a field name")
	}
	return opts, field
}

func (p *parser) makemv(name token) Command {
	opts, f := p.oneField("makemv", "delim", "tokenizer", "allowempty", "setsv")
	if o, ok := FindOption(opts, "tokenizer"); ok {
		p.regexOption(o)
	}
	return &Makemv{Pos: name.pos, Options: opts, Field: f}
}

func (p *parser) spath(name token) Command {
	c := &Spath{Pos: name.pos}
	var pathTok *token
	for !p.atEnd() {
		if p.isOption() {
			c.Options = append(c.Options, p.knownOption("spath", "input", "output", "path"))
			continue
		}
		if pathTok != nil {
			p.failExpected(p.peek(), `"|" (spath takes one path)`)
		}
		t := p.word("a JSON path such as a.b{0}.c")
		pathTok = &t
		c.Path = t.text
	}
	if o, ok := FindOption(c.Options, "path"); ok && pathTok != nil {
		p.fail(o.Pos, "spath takes path= or a path, not both")
	}
	for _, o := range c.Options {
		if o.Key == "path" && !validJSONPath(o.Value) {
			p.fail(o.Pos, "bad JSON path %q: give names and braces, such as a.b{0}.c or a{}", o.Value)
		}
	}
	if pathTok != nil && !validJSONPath(c.Path) {
		p.fail(pathTok.pos, "bad JSON path %q: give names and braces, such as a.b{0}.c or a{}", c.Path)
	}
	return c
}

// validJSONPath reports whether p is a non-empty JSON path (ParseJSONPath).
func validJSONPath(p string) bool {
	_, ok := ParseJSONPath(p)
	return ok && p != ""
}

func (p *parser) mvexpand(name token) Command {
	opts, f := p.oneField("mvexpand", "limit")
	return &Mvexpand{Pos: name.pos, Options: opts, Field: f}
}

func (p *parser) regexOption(o Option) {
	if _, err := compileRegex(o.Value); err != nil {
		p.fail(o.Pos, "bad regular expression %s: %v", quote(o.Value), err)
	}
}

func (p *parser) rex(name token) Command {
	c := &Rex{Pos: name.pos}
	var re *token
	for !p.atEnd() {
		if p.isOption() {
			c.Options = append(c.Options, p.knownOption("rex", "field", "max_match", "mode", "offset_field"))
			continue
		}
		t := p.peek()
		if t.kind != tString || re != nil {
			p.failExpected(t, `a "quoted regular expression" or key=value`)
		}
		p.next()
		re = &t
	}
	if re == nil {
		p.failExpected(p.peek(), `a "quoted regular expression"`)
	}
	c.Regex = re.text
	if m, _ := OptionValue(c.Options, "mode"); m == "sed" {
		if _, err := ParseSed(c.Regex); err != nil {
			p.fail(re.pos, "%v", err)
		}
	} else if m != "" {
		o, _ := FindOption(c.Options, "mode")
		p.fail(o.Pos, "rex mode must be sed, found %q", m)
	} else if _, err := compileRegex(c.Regex); err != nil {
		p.fail(re.pos, "bad regular expression %s: %v", quote(c.Regex), err)
	}
	return c
}

func (p *parser) top(name token) Command {
	c := &Top{Pos: name.pos, Rare: strings.EqualFold(name.text, "rare")}
	known := []string{"limit", "countfield", "percentfield", "showcount", "showperc", "useother", "otherstr"}
	for !p.atEnd() && !isWord(p.peek(), "by") {
		if p.isOption() {
			c.Options = append(c.Options, p.knownOption(c.Name(), known...))
			continue
		}
		c.Fields = append(c.Fields, p.fieldList("a field name", "by")...)
	}
	if len(c.Fields) == 0 {
		p.failExpected(p.peek(), "a field name")
	}
	if isWord(p.peek(), "by") {
		p.next()
		c.By = p.fieldList(`a field name after "by"`)
	}
	return c
}

func (p *parser) sample(name token) Command {
	c := &Sample{Pos: name.pos}
	for !p.atEnd() {
		if !p.isOption() {
			p.failExpected(p.peek(), `ratio=R, count=N, partitions=N or seed=S`)
		}
		c.Options = append(c.Options, p.knownOption("sample", "ratio", "count", "partitions", "seed"))
	}
	n := 0
	for _, k := range []string{"ratio", "count", "partitions"} {
		if _, ok := OptionValue(c.Options, k); ok {
			n++
		}
	}
	if n != 1 {
		p.fail(name.pos, "sample needs exactly one of ratio=R, count=N or partitions=N")
	}
	return c
}

// ConvertFuncs are the conversion functions of convert.
var ConvertFuncs = []string{"auto", "ctime", "dur2sec", "memk", "mktime", "mstime", "none", "num", "rmcomma", "rmunit"}

func (p *parser) convert(name token) Command {
	c := &Convert{Pos: name.pos}
	for !p.atEnd() {
		if p.isOption() {
			c.Options = append(c.Options, p.knownOption("convert", "timeformat"))
			continue
		}
		if p.peek().kind == tComma && len(c.Conversions) > 0 {
			p.next()
		}
		t := p.expectKind(tWord, "a conversion such as ctime(FIELD)")
		cv := Conversion{Pos: t.pos, Func: strings.ToLower(t.text)}
		if !stopWord(cv.Func, ConvertFuncs) {
			p.fail(t.pos, "unknown convert function %q: expected one of %s", t.text, strings.Join(ConvertFuncs, ", "))
		}
		p.expectKind(tLParen, `"("`)
		cv.Field = p.word("a field name").text
		p.expectKind(tRParen, `")"`)
		if isWord(p.peek(), "as") {
			p.next()
			cv.As = p.word(`a field name after "as"`).text
		}
		c.Conversions = append(c.Conversions, cv)
	}
	if len(c.Conversions) == 0 {
		p.failExpected(p.peek(), "a conversion such as ctime(FIELD)")
	}
	return c
}

// pairs parses FIELD [as FIELD], ... up to a stop word.
func (p *parser) pairs(what string, stop ...string) []RenamePair {
	var out []RenamePair
	for !p.atEnd() && !(p.peek().kind == tWord && stopWord(p.peek().text, stop)) {
		if p.peek().kind == tComma && len(out) > 0 {
			p.next()
		}
		f := p.word(what).text
		pr := RenamePair{From: f, To: f}
		if isWord(p.peek(), "as") {
			p.next()
			pr.To = p.word(`a field name after "as"`).text
		}
		out = append(out, pr)
	}
	if len(out) == 0 {
		p.failExpected(p.peek(), what)
	}
	return out
}

func (p *parser) lookup(name token) Command {
	_, n := p.lookupName()
	c := &Lookup{Pos: name.pos, Table: n}
	c.Inputs = p.pairs("a field to match on", "output", "outputnew")
	if t := p.peek(); isWord(t, "output") || isWord(t, "outputnew") {
		p.next()
		c.Output = strings.ToUpper(t.text)
		c.Outputs = p.pairs("a field of the lookup to output")
	}
	return c
}

func (p *parser) appendCmd(name token) Command {
	c := &Append{Pos: name.pos, Pipe: strings.EqualFold(name.text, "appendpipe")}
	for p.isOption() {
		c.Options = append(c.Options, p.knownOption(c.Name(), "maxout", "maxtime", "extendtimerange"))
	}
	c.Sub = p.subsearch(`a subsearch in [ ]`)
	return c
}

func (p *parser) join(name token) Command {
	c := &Join{Pos: name.pos}
	for p.peek().kind != tLBrack {
		if p.atEnd() {
			p.failExpected(p.peek(), "a subsearch in [ ]")
		}
		if p.isOption() {
			o := p.knownOption("join", "type", "max", "overwrite", "usetime")
			if o.Key == "type" && !stopWord(o.Value, []string{"inner", "left", "outer"}) {
				p.fail(o.Pos, "join type must be inner, left or outer, found %q", o.Value)
			}
			c.Options = append(c.Options, o)
			continue
		}
		if p.peek().kind == tComma && len(c.Fields) > 0 {
			p.next()
		}
		c.Fields = append(c.Fields, p.word("a field to join on").text)
	}
	if len(c.Fields) == 0 {
		p.failExpected(p.peek(), "a field to join on before the subsearch")
	}
	c.Sub = p.subsearch("a subsearch in [ ]")
	return c
}

func (p *parser) inputlookupWhere(c *Inputlookup) {
	if !isWord(p.peek(), "where") {
		return
	}
	t := p.next()
	p.mode = modeSearch
	c.Where = p.searchAnd()
	if c.Where == nil {
		p.failExpected(p.peek(), `search terms after "`+t.text+`"`)
	}
}
