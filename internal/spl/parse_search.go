package spl

// searchAnd parses juxtaposed (or AND-joined) terms up to a pipe, the end,
// or a closing parenthesis. It returns nil when there are none.
func (p *parser) searchAnd() SearchExpr {
	var terms []SearchExpr
	start := p.peek().pos
	for {
		t := p.peek()
		if t.kind == tEOF || t.kind == tPipe || t.kind == tRParen || t.kind == tRBrack {
			break
		}
		if t.kind == tWord && t.text == "AND" {
			if len(terms) == 0 {
				p.failExpected(t, "a search term before AND")
			}
			p.next()
		}
		terms = append(terms, p.searchOrExpr())
	}
	switch len(terms) {
	case 0:
		return nil
	case 1:
		return terms[0]
	}
	return &SearchAnd{Pos: start, Terms: terms}
}

func (p *parser) searchOrExpr() SearchExpr {
	x := p.searchNot()
	if t := p.peek(); !(t.kind == tWord && t.text == "OR") {
		return x
	}
	or := &SearchOr{Pos: x.Position(), Terms: []SearchExpr{x}}
	for {
		t := p.peek()
		if !(t.kind == tWord && t.text == "OR") {
			return or
		}
		p.next()
		or.Terms = append(or.Terms, p.searchNot())
	}
}

func (p *parser) searchNot() SearchExpr {
	t := p.peek()
	defer p.nest(t)()
	switch {
	case t.kind == tWord && t.text == "NOT":
		p.next()
		return &SearchNot{Pos: t.pos, X: p.searchNot()}
	case t.kind == tLParen:
		p.next()
		x := p.searchAnd()
		if x == nil {
			p.failExpected(p.peek(), "a search term")
		}
		p.expectKind(tRParen, `")"`)
		return &SearchGroup{Pos: t.pos, X: x}
	}
	return p.searchTerm()
}

func (p *parser) searchTerm() SearchExpr {
	t := p.peek()
	if t.kind == tLBrack {
		return &SearchSub{Pos: t.pos, Sub: p.subsearch("a subsearch")}
	}
	if t.kind != tWord && t.kind != tString || t.kind == tWord && (t.text == "AND" || t.text == "OR") {
		p.failExpected(t, "a search term")
	}
	p.next()
	if op := p.peek(); op.kind == tOp {
		p.next()
		v := p.peek()
		if v.kind != tWord && v.kind != tString {
			p.failExpected(v, "a value after "+quote(t.text+op.text))
		}
		p.next()
		return &Compare{Pos: t.pos, Field: t.text, Op: op.text, Value: v.text, Quoted: v.kind == tString}
	}
	return &Term{Pos: t.pos, Text: t.text, Quoted: t.kind == tString}
}
