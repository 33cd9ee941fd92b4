package spl

import (
	"fmt"
	"strings"

	"github.com/dockyard/dockyard/internal/errdefs"
)

// ParseError is a syntax error at a position. It is of kind
// errdefs.ErrInvalid.
type ParseError struct {
	Pos Pos
	Msg string
}

func (e *ParseError) Error() string { return e.Pos.String() + ": " + e.Msg }

// Is makes a ParseError match errdefs.ErrInvalid.
func (e *ParseError) Is(target error) bool { return target == errdefs.ErrInvalid }

// Errorf returns a *ParseError at pos, for errors found after parsing (an
// unknown function, a bad option value) that still point into the search.
func Errorf(pos Pos, format string, args ...any) *ParseError {
	return &ParseError{Pos: pos, Msg: fmt.Sprintf(format, args...)}
}

type parser struct {
	lx    *lexer
	off   int
	mode  lexMode
	depth int
}

// MaxDepth bounds how deeply parentheses, NOT and unary minus may nest. The
// parser is recursive: without a bound a search of a million "(" overflowed
// the goroutine stack, which no recover can catch, and took the server down.
const MaxDepth = 200

// nest enters one level of nesting at t and returns the function that
// leaves it; it fails beyond MaxDepth.
func (p *parser) nest(t token) func() {
	p.depth++
	if p.depth > MaxDepth {
		p.fail(t.pos, "expression nested more than %d levels deep: simplify it, for example by splitting it over several eval commands", MaxDepth)
	}
	return func() { p.depth-- }
}

// Parse parses a search. A leading "|" is allowed; a search that does not
// start with a command name is an implicit search.
func Parse(src string) (pl *Pipeline, err error) {
	p := &parser{lx: newLexer(src), mode: modeArgs}
	defer func() {
		if r := recover(); r != nil {
			pe, ok := r.(*ParseError)
			if !ok {
				panic(r)
			}
			pl, err = nil, pe
		}
	}()
	if t := p.peek(); t.kind == tEOF {
		p.fail(t.pos, "empty search: expected search terms or a command such as \"| makeresults\"")
	}
	pl = p.pipeline(tEOF)
	if t := p.peek(); t.kind != tEOF {
		p.failExpected(t, `"|" or end of search`)
	}
	return pl, nil
}

// pipeline parses commands joined by pipes up to a token of kind end (the
// end of the search, or the "]" of a subsearch), which it does not consume.
func (p *parser) pipeline(end tokKind) *Pipeline {
	pl := &Pipeline{}
	for first := true; ; first = false {
		p.mode = modeArgs
		t := p.peek()
		piped := t.kind == tPipe
		if piped {
			p.next()
		} else if !first {
			what := `"|" or end of search`
			if end == tRBrack {
				what = `"|" or "]"`
			}
			p.failExpected(t, what)
		}
		pl.Commands = append(pl.Commands, p.command(first, piped))
		p.mode = modeArgs
		if k := p.peek().kind; k == end || k == tEOF {
			return pl
		}
	}
}

// subsearch parses [ PIPELINE ].
func (p *parser) subsearch(what string) *Subsearch {
	open := p.peek()
	if open.kind != tLBrack {
		p.failExpected(open, what)
	}
	defer p.nest(open)()
	p.next()
	if t := p.peek(); t.kind == tRBrack || t.kind == tEOF {
		p.failExpected(t, "a search inside [ ]")
	}
	mode := p.mode
	pl := p.pipeline(tRBrack)
	p.mode = modeArgs
	p.expectKind(tRBrack, `"]" to close the subsearch opened at `+open.pos.String())
	p.mode = mode
	return &Subsearch{Pos: open.pos, Pipeline: pl}
}

func (p *parser) fail(pos Pos, format string, args ...any) {
	panic(Errorf(pos, format, args...))
}

func (p *parser) failExpected(t token, what string) {
	p.fail(t.pos, "expected %s, found %s", what, describe(t))
}

func describe(t token) string {
	switch t.kind {
	case tEOF:
		return "end of search"
	case tString:
		return "quoted string " + quote(t.text)
	case tQField:
		return "field " + quoteWith(t.text, '\'')
	}
	return quote(t.text)
}

// peek returns the next token in the current mode without consuming it.
func (p *parser) peek() token { return p.check(p.lx.scan(p.off, p.mode)) }

// peek2 returns the token after the next one.
func (p *parser) peek2() token { return p.check(p.lx.scan(p.peek().end, p.mode)) }

func (p *parser) check(t token) token {
	switch t.kind {
	case tBad:
		p.fail(t.pos, "%s", t.text)
	}
	return t
}

func (p *parser) next() token {
	t := p.peek()
	p.off = t.end
	return t
}

// atEnd reports whether the command's arguments are over.
func (p *parser) atEnd() bool {
	k := p.peek().kind
	return k == tEOF || k == tPipe || k == tRBrack
}

// isWord reports whether t is the unquoted word kw (case-insensitive).
func isWord(t token, kw string) bool {
	return (t.kind == tWord || t.kind == tIdent) && strings.EqualFold(t.text, kw)
}

// word consumes a bare or quoted word.
func (p *parser) word(what string) token {
	t := p.peek()
	if t.kind != tWord && t.kind != tString {
		p.failExpected(t, what)
	}
	return p.next()
}

// isOption reports whether the next tokens are key=.
func (p *parser) isOption() bool {
	t := p.peek()
	if t.kind != tWord {
		return false
	}
	n := p.peek2()
	return n.kind == tOp && n.text == "="
}

// option consumes key=value.
func (p *parser) option() Option {
	k := p.next()
	p.next() // =
	v := p.word(fmt.Sprintf("a value after %q", k.text+"="))
	return Option{Pos: k.pos, Key: strings.ToLower(k.text), Value: v.text}
}

func (p *parser) expectOp(op string) token {
	t := p.peek()
	if t.kind != tOp || t.text != op {
		p.failExpected(t, quote(op))
	}
	return p.next()
}

func (p *parser) expectKind(k tokKind, what string) token {
	t := p.peek()
	if t.kind != k {
		p.failExpected(t, what)
	}
	return p.next()
}

// commandParsers maps a command name to its parser; each is called with the
// command's name token already consumed.
var commandParsers map[string]func(p *parser, name token) Command

func init() {
	commandParsers = map[string]func(*parser, token) Command{
		"search":       (*parser).searchCmd,
		"makeresults":  (*parser).makeresults,
		"inputlookup":  (*parser).inputlookup,
		"outputlookup": (*parser).outputlookup,
		"eval":         (*parser).eval,
		"where":        (*parser).where,
		"table":        (*parser).table,
		"fields":       (*parser).fields,
		"rename":       (*parser).rename,
		"head":         (*parser).head,
		"tail":         (*parser).head,
		"sort":         (*parser).sort,
		"dedup":        (*parser).dedup,
		"stats":        (*parser).stats,
		"streamstats":  (*parser).stats,
		"eventstats":   (*parser).stats,
		"timechart":    (*parser).timechart,
		"chart":        (*parser).chart,
		"bin":          (*parser).bin,
		"bucket":       (*parser).bin,
		"fillnull":     (*parser).fillnull,
		"makemv":       (*parser).makemv,
		"spath":        (*parser).spath,
		"mvexpand":     (*parser).mvexpand,
		"rex":          (*parser).rex,
		"top":          (*parser).top,
		"rare":         (*parser).top,
		"sample":       (*parser).sample,
		"convert":      (*parser).convert,
		"lookup":       (*parser).lookup,
		"append":       (*parser).appendCmd,
		"appendpipe":   (*parser).appendCmd,
		"foreach":      (*parser).foreach,
		"join":         (*parser).join,
		"fit":          (*parser).fit,
		"apply":        (*parser).apply,
		"summary":      (*parser).summary,
		"listmodels":   (*parser).listmodels,
		"deletemodel":  (*parser).deletemodel,
	}
}

// IsCommand reports whether name is a command of the language.
func IsCommand(name string) bool {
	_, ok := commandParsers[strings.ToLower(name)]
	return ok
}

func (p *parser) command(first, piped bool) Command {
	t := p.peek()
	if t.kind == tWord {
		if fn, ok := commandParsers[strings.ToLower(t.text)]; ok {
			p.next()
			return fn(p, t)
		}
	}
	if first && !piped {
		p.mode = modeSearch
		x := p.searchAnd()
		if x == nil {
			p.failExpected(p.peek(), "a search term")
		}
		return &Search{Pos: t.pos, Implicit: true, Expr: x}
	}
	if t.kind == tWord {
		p.fail(t.pos, "unknown command %q: see docs/search.md for the commands Dockyard supports", t.text)
	}
	p.failExpected(t, `a command after "|"`)
	return nil
}
