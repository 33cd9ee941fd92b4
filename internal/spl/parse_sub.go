package spl

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// compileRegex compiles a regular expression as rex and makemv use it.
func compileRegex(s string) (*regexp.Regexp, error) { return regexp.Compile(s) }

// Sed is a parsed rex mode=sed expression: s/REGEX/REPLACEMENT/FLAGS.
type Sed struct {
	Re     *regexp.Regexp
	Repl   string // with \1 turned into ${1}
	Global bool
	Nth    int // replace only the Nth match (0: the first, or all with g)
}

// ParseSed parses s/REGEX/REPLACEMENT/[g|N].
func ParseSed(s string) (*Sed, error) {
	if len(s) < 2 || s[0] != 's' {
		return nil, fmt.Errorf("rex mode=sed expects s/REGEX/REPLACEMENT/FLAGS, found %s", quote(s))
	}
	d := s[1]
	parts := splitUnescaped(s[2:], d)
	if len(parts) != 3 {
		return nil, fmt.Errorf("rex mode=sed expects s/REGEX/REPLACEMENT/FLAGS, found %s", quote(s))
	}
	re, err := compileRegex(parts[0])
	if err != nil {
		return nil, fmt.Errorf("bad regular expression %s: %w", quote(parts[0]), err)
	}
	sed := &Sed{Re: re, Repl: sedBackref.ReplaceAllString(parts[1], "$${$1}")}
	switch f := parts[2]; {
	case f == "g":
		sed.Global = true
	case f == "":
	default:
		n, err := strconv.Atoi(f)
		if err != nil || n < 1 {
			return nil, fmt.Errorf("rex mode=sed flags must be g or a number, found %s", quote(f))
		}
		sed.Nth = n
	}
	return sed, nil
}

var sedBackref = regexp.MustCompile(`\\(\d)`)

// splitUnescaped splits s at d, except where d follows a backslash (which
// is then dropped).
func splitUnescaped(s string, d byte) []string {
	var out []string
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '\\' && i+1 < len(s) && s[i+1] == d:
			b.WriteByte(d)
			i++
		case s[i] == d:
			out = append(out, b.String())
			b.Reset()
		default:
			b.WriteByte(s[i])
		}
	}
	return append(out, b.String())
}

// ForeachPlaceholders are the template words of a foreach body.
var ForeachPlaceholders = []string{"<<FIELD>>", "<<MATCHSTR>>", "<<MATCHSEG1>>", "<<MATCHSEG2>>", "<<MATCHSEG3>>", "<<ITEM>>"}

func (p *parser) foreach(name token) Command {
	c := &Foreach{Pos: name.pos}
	for p.peek().kind != tLBrack {
		if p.atEnd() {
			p.failExpected(p.peek(), "a template search in [ ], such as [eval <<FIELD>> = <<FIELD>> * 2]")
		}
		if p.isOption() {
			c.Options = append(c.Options, p.knownOption("foreach", "mode", "fieldstr", "matchstr", "matchseg1", "matchseg2", "matchseg3"))
			continue
		}
		if p.peek().kind == tComma && len(c.Fields) > 0 {
			p.next()
		}
		c.Fields = append(c.Fields, p.word("a field name or pattern").text)
	}
	if len(c.Fields) == 0 {
		p.failExpected(p.peek(), "a field name or pattern before [")
	}
	if o, ok := FindOption(c.Options, "mode"); ok {
		switch o.Value {
		case "multifield":
		case "multivalue", "json_array":
			if len(c.Fields) != 1 || strings.Contains(c.Fields[0], "*") {
				p.fail(o.Pos, "foreach mode=%s takes one field (no wildcard), whose values <<ITEM>> stands for", o.Value)
			}
		default:
			p.fail(o.Pos, "foreach mode=%q: give multifield (the default), multivalue or json_array", o.Value)
		}
	}
	open := p.next()
	defer p.nest(open)()
	end := matchBracket(p.lx.src, open.end)
	if end < 0 {
		p.fail(open.pos, `"[" is not closed: expected "]" at the end of the template search`)
	}
	c.Body, c.BodyPos = p.lx.src[open.end:end], p.lx.pos(open.end)
	// Check the template's syntax with each placeholder standing for a
	// field name of the same length, so positions stay where they are; the
	// body is lexed on its own, placed where it stands in the search.
	lx := newLexer(blankPlaceholders(c.Body) + "]")
	lx.at = c.BodyPos
	sub := &parser{lx: lx, mode: modeArgs, depth: p.depth}
	if t := sub.peek(); t.kind == tRBrack {
		sub.failExpected(t, "a search inside [ ]")
	}
	c.Sub = sub.pipeline(tRBrack)
	sub.expectKind(tRBrack, `"]"`)
	p.off = end + 1
	return c
}

func blankPlaceholders(s string) string {
	for _, ph := range ForeachPlaceholders {
		s = strings.ReplaceAll(s, ph, strings.Repeat("_", len(ph)))
	}
	return s
}

// matchBracket returns the offset of the "]" closing a "[" that ends just
// before off, skipping quoted strings and nested brackets; -1 if none.
func matchBracket(src string, off int) int {
	depth := 0
	for i := off; i < len(src); i++ {
		switch c := src[i]; c {
		case '"', '\'':
			for i++; i < len(src) && src[i] != c; i++ {
				if src[i] == '\\' {
					i++
				}
			}
		case '[':
			depth++
		case ']':
			if depth == 0 {
				return i
			}
			depth--
		}
	}
	return -1
}
