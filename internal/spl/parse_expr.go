package spl

import (
	"strconv"
	"strings"
)

// expr parses an eval or where expression (in expression mode).
func (p *parser) expr() Expr {
	defer p.nest(p.peek())()
	return p.orExpr()
}

func (p *parser) isKeyword(kw string) (token, bool) {
	t := p.peek()
	return t, t.kind == tIdent && strings.EqualFold(t.text, kw)
}

func (p *parser) orExpr() Expr {
	l := p.andExpr()
	for {
		t, ok := p.isKeyword("OR")
		if !ok {
			return l
		}
		p.next()
		l = &Binary{Pos: t.pos, Op: "OR", L: l, R: p.andExpr()}
	}
}

func (p *parser) andExpr() Expr {
	l := p.notExpr()
	for {
		t, ok := p.isKeyword("AND")
		if !ok {
			return l
		}
		p.next()
		l = &Binary{Pos: t.pos, Op: "AND", L: l, R: p.notExpr()}
	}
}

func (p *parser) notExpr() Expr {
	if t, ok := p.isKeyword("NOT"); ok {
		defer p.nest(t)()
		p.next()
		return &Unary{Pos: t.pos, Op: "NOT", X: p.notExpr()}
	}
	return p.cmpExpr()
}

func (p *parser) binaryLevel(next func() Expr, ops ...string) Expr {
	l := next()
	for {
		t := p.peek()
		if t.kind != tOp {
			return l
		}
		op := t.text
		if op == "==" {
			op = "="
		}
		found := false
		for _, o := range ops {
			if o == op {
				found = true
			}
		}
		if !found {
			return l
		}
		p.next()
		l = &Binary{Pos: t.pos, Op: op, L: l, R: next()}
	}
}

func (p *parser) cmpExpr() Expr {
	return p.binaryLevel(p.addExpr, "=", "!=", "<", "<=", ">", ">=")
}

func (p *parser) addExpr() Expr { return p.binaryLevel(p.mulExpr, "+", "-", ".") }
func (p *parser) mulExpr() Expr { return p.binaryLevel(p.unaryExpr, "*", "/", "%") }

func (p *parser) unaryExpr() Expr {
	if t := p.peek(); t.kind == tOp && t.text == "-" {
		defer p.nest(t)()
		p.next()
		return &Unary{Pos: t.pos, Op: "-", X: p.unaryExpr()}
	}
	return p.primary()
}

func (p *parser) primary() Expr {
	t := p.peek()
	switch t.kind {
	case tNumber:
		p.next()
		v, err := strconv.ParseFloat(t.text, 64)
		if err != nil {
			p.fail(t.pos, "bad number %q", t.text)
		}
		return &Number{Pos: t.pos, Text: t.text, Value: v}
	case tString:
		p.next()
		return &String{Pos: t.pos, Value: t.text}
	case tQField:
		p.next()
		return &FieldRef{Pos: t.pos, Name: t.text}
	case tLParen:
		p.next()
		x := p.expr()
		p.expectKind(tRParen, `")"`)
		return x
	case tIdent:
		if exprKeyword(t.text) {
			break
		}
		p.next()
		if p.peek().kind != tLParen {
			return &FieldRef{Pos: t.pos, Name: t.text}
		}
		p.next()
		call := &Call{Pos: t.pos, Func: strings.ToLower(t.text)}
		if p.peek().kind == tRParen {
			p.next()
			return call
		}
		for {
			call.Args = append(call.Args, p.expr())
			if p.peek().kind == tComma {
				p.next()
				continue
			}
			p.expectKind(tRParen, `"," or ")"`)
			return call
		}
	}
	p.failExpected(t, `a value (a number, a "string", a field or a function call)`)
	return nil
}
