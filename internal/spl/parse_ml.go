package spl

import "strings"

func validName(s string, dots bool) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(isIdentChar(c) && c < 0x80 || i > 0 && (c == '-' || dots && c == '.')) {
			return false
		}
	}
	return true
}

// modelRef parses [app:]NAME[@REF].
func (p *parser) modelRef() ModelRef {
	t := p.word("a model name ([app:]NAME)")
	m := ModelRef{Pos: t.pos}
	s := t.text
	if rest, ok := strings.CutPrefix(s, "app:"); ok {
		m.App, s = true, rest
	}
	s, m.Ref, _ = strings.Cut(s, "@")
	m.Name = s
	if !validName(m.Name, true) {
		p.fail(t.pos, "bad model name %q: expected [app:]NAME[@VERSION] where NAME has letters, digits, _, . and -", t.text)
	}
	if strings.Contains(t.text, "@") && !validName(m.Ref, true) {
		p.fail(t.pos, "bad model reference %q: expected a version number or alias after \"@\"", t.text)
	}
	return m
}

func (p *parser) fit(name token) Command {
	c := &Fit{Pos: name.pos}
	alg := p.peek()
	if alg.kind != tWord && alg.kind != tString || p.isOption() {
		p.failExpected(alg, "an algorithm such as MLTKContainer")
	}
	c.Algorithm = p.next().text
	var fields []string // the fields since the start or since "from"
	into := false
	for {
		t := p.peek()
		switch {
		case p.atEnd():
			p.fitEnd(c, name, fields, t)
			return c
		case p.isOption():
			o := p.option()
			switch o.Key {
			case "algo":
				c.Algo = o.Value
			case "container":
				c.Container = o.Value
			default:
				c.Params = append(c.Params, o)
			}
		case isWord(t, "as") && c.As == "":
			p.fitEnd(c, name, fields, t)
			fields = nil
			p.next()
			c.As = p.word(`a field name after "as"`).text
			into = true // nothing but options after as
		case into:
			p.failExpected(t, `key=value, "as NAME" or "|"`)
		case isWord(t, "into"):
			p.fitEnd(c, name, fields, t)
			fields = nil
			p.next()
			c.Into = p.modelRef()
			into = true
		case isWord(t, "from"):
			if c.From {
				p.fail(t.pos, `"from" appears twice: write TARGET... from FEATURES...`)
			}
			p.next()
			c.Targets, c.From, fields = fields, true, nil
		case t.kind == tComma:
			p.next()
		default:
			fields = append(fields, p.word(`a field name, "from", "into" or "|"`).text)
		}
	}
}

// fitEnd checks a fit whose fields end at t (into, as or the end of the
// command) and takes fields as its features.
func (p *parser) fitEnd(c *Fit, name token, fields []string, t token) {
	if c.Features != nil {
		return // into was already seen
	}
	if c.Algo == "" && strings.EqualFold(c.Algorithm, "MLTKContainer") {
		p.fail(name.pos, "fit needs algo=NOTEBOOK: the notebook that trains the model")
	}
	if len(fields) == 0 {
		what := "a feature field"
		if c.From {
			what = `a feature field after "from"`
		}
		p.failExpected(t, what)
	}
	c.Features = fields
}

func (p *parser) apply(name token) Command {
	c := &Apply{Pos: name.pos, Model: p.modelRef()}
	for !p.atEnd() {
		switch {
		case p.isOption():
			if o := p.option(); o.Key == "container" {
				c.Container = o.Value
			} else {
				c.Params = append(c.Params, o)
			}
		case isWord(p.peek(), "as") && c.As == "":
			p.next()
			c.As = p.word(`a field name after "as"`).text
		default:
			p.failExpected(p.peek(), `key=value, "as NAME" or "|"`)
		}
	}
	return c
}

func (p *parser) summary(name token) Command {
	c := &Summary{Pos: name.pos, Model: p.modelRef()}
	for p.isOption() {
		o := p.option()
		if o.Key != "container" {
			p.fail(o.Pos, "summary takes only container=NAME after the model, not %s=", o.Key)
		}
		c.Container = o.Value
	}
	return c
}

func (p *parser) listmodels(name token) Command { return &Listmodels{Pos: name.pos} }

func (p *parser) deletemodel(name token) Command {
	return &Deletemodel{Pos: name.pos, Model: p.modelRef()}
}
