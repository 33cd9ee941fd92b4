// Package spl is the ML-SPL search language: a hand-written lexer, a
// recursive-descent parser and an AST whose nodes carry their positions.
// Parse turns a search such as
//
//	| inputlookup iris.csv | fit MLTKContainer algo=linear_regression petal_width from sepal_length into app:IrisModel
//
// into a *Pipeline; errors are *ParseError values that name the line and
// column and what was expected. String on every node prints source that
// parses back to the same tree, so Parse(p.String()).String() == p.String().
package spl

import (
	"fmt"
	"strconv"
	"strings"
)

// Pos is a position in the search text: 1-based line and column.
type Pos struct {
	Line, Col int
}

func (p Pos) String() string { return fmt.Sprintf("line %d, column %d", p.Line, p.Col) }

// Pipeline is a parsed search: commands joined by pipes.
type Pipeline struct {
	Commands []Command
}

// String prints the pipeline in canonical form.
func (p *Pipeline) String() string {
	var b strings.Builder
	for i, c := range p.Commands {
		s := c.String()
		switch {
		case i == 0:
			if sc, ok := c.(*Search); ok {
				// A first search prints without a pipe; an implicit one whose
				// first word would read as a command says "search".
				if sc.Implicit && startsWithCommand(s) {
					s = "search " + s
				}
				b.WriteString(s)
				continue
			}
			b.WriteString("| ")
		default:
			b.WriteString(" | ")
		}
		b.WriteString(s)
	}
	return b.String()
}

// Command is one stage of a pipeline.
type Command interface {
	// Name is the command's name as written in a search ("search", "eval").
	Name() string
	// Position is where the command's name (or first term) starts.
	Position() Pos
	// String prints the command without a leading pipe.
	String() string
}

// Option is a key=value argument of a command.
type Option struct {
	Pos   Pos
	Key   string
	Value string
}

func (o Option) String() string {
	if strings.HasSuffix(o.Key, "!") { // "k!=v" would read as k != v
		return o.Key + " =" + word(o.Value)
	}
	return o.Key + "=" + word(o.Value)
}

// Generating reports whether the command produces rows without input, and
// so may start a pipeline.
func Generating(c Command) bool {
	switch c := c.(type) {
	case *Makeresults, *Inputlookup, *Summary, *Listmodels, *Deletemodel:
		return true
	case *Search:
		return c.Implicit
	}
	return false
}

// quote returns s as a double-quoted string with backslash escapes.
func quote(s string) string { return quoteWith(s, '"') }

func quoteWith(s string, q byte) string {
	var b strings.Builder
	b.WriteByte(q)
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case q, '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case '\n':
			b.WriteString(`\n`)
		case '\t':
			b.WriteString(`\t`)
		case '\r':
			b.WriteString(`\r`)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte(q)
	return b.String()
}

// bareWord reports whether s lexes as exactly one bare word in argument
// mode (and is no keyword), so it can be printed without quotes.
func bareWord(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		var next byte
		if i+1 < len(s) {
			next = s[i+1]
		}
		if wordStop(s[i], next, modeArgs) || s[i] == ']' {
			return false
		}
	}
	switch strings.ToLower(s) {
	case "and", "or", "not", "by", "as", "from", "into":
		return false
	}
	return s[0] != '-' && s[0] != '+'

}

// word prints s bare when it lexes as one word, else quoted.
func word(s string) string {
	if bareWord(s) {
		return s
	}
	return quote(s)
}

func words(ws []string, sep string) string {
	out := make([]string, len(ws))
	for i, w := range ws {
		out[i] = word(w)
	}
	return strings.Join(out, sep)
}

func itoa(n int) string { return strconv.Itoa(n) }

// startsWithCommand reports whether s begins with a bare word that names a
// command.
func startsWithCommand(s string) bool {
	end := 0
	for end < len(s) && !wordStop(s[end], 0, modeArgs) {
		end++
	}
	return end > 0 && IsCommand(s[:end])
}
