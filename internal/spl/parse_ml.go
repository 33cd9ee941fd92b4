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
	for {
		t := p.peek()
		switch {
		case p.atEnd():
			p.failExpected(t, `"into"`)
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
			continue
		case isWord(t, "into"):
			p.next()
			if c.Algo == "" {
				p.fail(name.pos, "fit needs algo=NOTEBOOK: the notebook that trains the model")
			}
			if len(c.Features) == 0 {
				p.failExpected(t, "a feature field before \"into\"")
			}
			c.Into = p.modelRef()
			for p.isOption() {
				o := p.option()
				c.Params = append(c.Params, o)
			}
			return c
		case isWord(t, "from"):
			if c.Target != "" || len(c.Features) != 1 {
				p.fail(t.pos, "expected exactly one target field before \"from\"")
			}
			p.next()
			c.Target, c.Features = c.Features[0], nil
			continue
		case t.kind == tComma:
			p.next()
			continue
		}
		c.Features = append(c.Features, p.word(`a field name or "into"`).text)
	}
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
