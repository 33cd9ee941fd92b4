package spl

import (
	"sort"
	"strings"
	"unicode/utf8"
)

// tokKind is the kind of a lexical token.
type tokKind int

const (
	tEOF    tokKind = iota
	tPipe           // |
	tLParen         // (
	tRParen         // )
	tComma          // ,
	tLBrack         // [ (a subsearch)
	tRBrack         // ]
	tWord           // a bare word (search and argument modes)
	tString         // a double-quoted string, unescaped
	tIdent          // an identifier (expression mode)
	tNumber         // a number (expression mode)
	tQField         // a single-quoted field name (expression mode)
	tOp             // an operator: = == != < <= > >= + - * / % .
	tBad            // a lexical error; text holds the message
)

// lexMode selects how the lexer splits text: search terms and command
// arguments are permissive words, expressions have operators.
type lexMode int

const (
	modeSearch lexMode = iota // words may hold commas
	modeArgs                  // commas separate words
	modeExpr                  // identifiers, numbers and operators
)

type token struct {
	kind tokKind
	text string // word, identifier, unescaped string, operator
	pos  Pos
	off  int // byte offset of the token's start
	end  int // byte offset just after the token
}

// lexer scans src on demand: the parser asks for the token at an offset in
// the mode the current command needs, so no token buffer goes stale when the
// mode changes.
type lexer struct {
	src   string
	at    Pos     // where src starts in the whole search (1:1 unless a foreach body)
	lines []int   // byte offset of each line start
	runes []int32 // runes[i]: characters before byte offset i; nil when src is ASCII
}

func newLexer(src string) *lexer {
	lx := &lexer{src: src, lines: []int{0}, at: Pos{1, 1}}
	ascii := true
	for i := 0; i < len(src); i++ {
		switch {
		case src[i] == '\n':
			lx.lines = append(lx.lines, i+1)
		case src[i] >= utf8.RuneSelf:
			ascii = false
		}
	}
	if !ascii {
		// Columns count characters; counting them from the line start on
		// every token made a long one-line search quadratic to parse.
		lx.runes = make([]int32, len(src)+1)
		n := int32(0)
		for i := 0; i < len(src); {
			_, w := utf8.DecodeRuneInString(src[i:])
			for j := 0; j < w; j++ {
				lx.runes[i+j] = n
			}
			n++
			i += w
		}
		lx.runes[len(src)] = n
	}
	return lx
}

// pos converts a byte offset to a line and a column (both 1-based; columns
// count characters).
func (lx *lexer) pos(off int) Pos {
	line := sort.SearchInts(lx.lines, off+1) - 1 // the last line start <= off
	start := lx.lines[line]
	p := Pos{Line: line + 1, Col: off - start + 1}
	if lx.runes != nil {
		p.Col = int(lx.runes[off]-lx.runes[start]) + 1
	}
	if p.Line == 1 {
		p.Col += lx.at.Col - 1
	}
	p.Line += lx.at.Line - 1
	return p
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func isIdentStart(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isIdentChar(c byte) bool { return isIdentStart(c) || isDigit(c) }

// wordStop reports whether c ends a bare word in search or argument mode.
func wordStop(c byte, next byte, mode lexMode) bool {
	switch c {
	case ' ', '\t', '\n', '\r', '|', '(', ')', '[', ']', '"', '=', '<', '>':
		return true
	case ',':
		return mode == modeArgs
	case '!':
		return next == '='
	}
	return false
}

// scan returns the token starting at or after byte offset off.
func (lx *lexer) scan(off int, mode lexMode) token {
	src := lx.src
	for off < len(src) && isSpace(src[off]) {
		off++
	}
	t := token{off: off, pos: lx.pos(off)}
	if off >= len(src) {
		t.kind, t.end = tEOF, off
		return t
	}
	c := src[off]
	single := func(k tokKind) token { t.kind, t.text, t.end = k, src[off:off+1], off+1; return t }
	switch c {
	case '|':
		return single(tPipe)
	case '(':
		return single(tLParen)
	case ')':
		return single(tRParen)
	case '[':
		return single(tLBrack)
	case ']':
		return single(tRBrack)
	case '"':
		return lx.scanString(t, '"', tString)
	}
	if c == ',' && mode != modeSearch {
		return single(tComma)
	}
	if op := scanOp(src[off:], mode); op != "" {
		t.kind, t.text, t.end = tOp, op, off+len(op)
		return t
	}
	if mode == modeExpr {
		switch {
		case c == '\'':
			return lx.scanString(t, '\'', tQField)
		case isDigit(c):
			end := off
			for end < len(src) && isDigit(src[end]) {
				end++
			}
			if end+1 < len(src) && src[end] == '.' && isDigit(src[end+1]) {
				end++
				for end < len(src) && isDigit(src[end]) {
					end++
				}
			}
			if end < len(src) && (src[end] == 'e' || src[end] == 'E') {
				e := end + 1
				if e < len(src) && (src[e] == '+' || src[e] == '-') {
					e++
				}
				if e < len(src) && isDigit(src[e]) {
					for e < len(src) && isDigit(src[e]) {
						e++
					}
					end = e
				}
			}
			t.kind, t.text, t.end = tNumber, src[off:end], end
			return t
		case isIdentStart(c):
			end := off
			for end < len(src) && (isIdentChar(src[end]) ||
				src[end] == '.' && end+1 < len(src) && isIdentChar(src[end+1])) {
				end++
			}
			t.kind, t.text, t.end = tIdent, src[off:end], end
			return t
		}
		_, n := utf8.DecodeRuneInString(src[off:])
		t.kind, t.text, t.end = tBad, "unexpected character "+quote(src[off:off+n]), off+n
		return t
	}
	end := off
	for end < len(src) {
		var next byte
		if end+1 < len(src) {
			next = src[end+1]
		}
		if wordStop(src[end], next, mode) {
			break
		}
		end++
	}
	if end == off { // a lone ']' or similar
		_, n := utf8.DecodeRuneInString(src[off:])
		t.kind, t.text, t.end = tBad, "unexpected character "+quote(src[off:off+n]), off+n
		return t
	}
	t.kind, t.text, t.end = tWord, src[off:end], end
	return t
}

// scanOp returns the operator at the start of s, or "".
func scanOp(s string, mode lexMode) string {
	for _, op := range []string{"==", "!=", "<=", ">="} {
		if strings.HasPrefix(s, op) {
			if op == "==" && mode != modeExpr {
				return "="
			}
			return op
		}
	}
	switch s[0] {
	case '=', '<', '>':
		return s[:1]
	case '+', '-', '*', '/', '%', '.':
		if mode == modeExpr {
			return s[:1]
		}
	}
	return ""
}

// scanString scans a quoted string starting at t.off. Backslash escapes
// \" \' \\ \n \t \r are decoded; any other backslash is kept as written.
func (lx *lexer) scanString(t token, q byte, kind tokKind) token {
	src := lx.src
	var b strings.Builder
	for i := t.off + 1; i < len(src); i++ {
		c := src[i]
		switch {
		case c == q:
			t.kind, t.text, t.end = kind, b.String(), i+1
			return t
		case c == '\\' && i+1 < len(src):
			i++
			switch src[i] {
			case '"', '\'', '\\':
				b.WriteByte(src[i])
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			case 'r':
				b.WriteByte('\r')
			default:
				b.WriteByte('\\')
				b.WriteByte(src[i])
			}
		default:
			b.WriteByte(c)
		}
	}
	t.kind, t.text, t.end = tBad, "unterminated quoted string", len(src)
	return t
}
