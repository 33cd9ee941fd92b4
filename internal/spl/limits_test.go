package spl

import (
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/dockyard/dockyard/internal/errdefs"
)

// TestDeepNestingIsAnError: nesting is bounded, so a search of a million
// "(" is a syntax error rather than a stack overflow that kills the
// server (a Go stack overflow cannot be recovered).
func TestDeepNestingIsAnError(t *testing.T) {
	const n = 500_000 // a search body of 1 MiB
	tests := []struct{ name, src string }{
		{"eval parentheses", "| eval x=" + strings.Repeat("(", n) + "1" + strings.Repeat(")", n)},
		{"eval unary minus", "| eval x=" + strings.Repeat("-", n) + "1"},
		{"eval NOT", "| where " + strings.Repeat("NOT ", n/4) + "x"},
		{"function calls", "| eval x=" + strings.Repeat("abs(", n/4) + "1" + strings.Repeat(")", n/4)},
		{"search groups", strings.Repeat("(", n) + "a" + strings.Repeat(")", n)},
		{"search NOT", strings.Repeat("NOT ", n/4) + "a"},
		{"subsearches", strings.Repeat("| makeresults | append [", n/25) + "| makeresults" + strings.Repeat("]", n/25)},
		{"foreach bodies", strings.Repeat("| makeresults | foreach x [", n/25) + "eval x=1" + strings.Repeat("]", n/25)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(tt.src)
			var pe *ParseError
			if !errors.As(err, &pe) || !errdefs.IsInvalid(err) || !strings.Contains(err.Error(), "nested more than") {
				t.Fatalf("got %v, want a syntax error about nesting", err)
			}
		})
	}
	// Nesting up to the limit still parses.
	ok := "| eval x=" + strings.Repeat("(", MaxDepth-2) + "1" + strings.Repeat(")", MaxDepth-2)
	if _, err := Parse(ok); err != nil {
		t.Fatalf("nesting of %d: %v", MaxDepth-2, err)
	}
}

// TestLongLineColumns: columns on a long one-line search, with characters
// of several bytes, are counted in characters (and computed without
// rescanning the line for every token, which made a 1 MiB search take
// hours).
func TestLongLineColumns(t *testing.T) {
	src := "| eval x=" + strings.Repeat(`"é"+`, 100_000) + "1 ]"
	_, err := Parse(src)
	want := "line 1, column " + strconv.Itoa(len("| eval x=")+4*100_000+3)
	if err == nil || !strings.HasPrefix(err.Error(), want+":") {
		t.Fatalf("got %v, want an error at %s", err, want)
	}
	_, err = Parse("| eval x=1\n| eval y=\"é\" ]")
	if err == nil || !strings.HasPrefix(err.Error(), "line 2, column 14:") {
		t.Fatalf("got %v, want an error at line 2, column 14", err)
	}
}
