package spl

import (
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dockyard/dockyard/internal/golden"
)

// TestParseGolden parses every testdata/parse/*.spl and compares the
// canonical String and the tree dump (or the error) with NAME.golden.
func TestParseGolden(t *testing.T) {
	golden.Run(t, "testdata/parse/*.spl", ".golden", func(t *testing.T, src string) string {
		return parseReport(t, strings.TrimRight(src, "\n"))
	})
}

func parseReport(t *testing.T, src string) string {
	pl, err := Parse(src)
	if err != nil {
		var pe *ParseError
		if !errors.As(err, &pe) {
			t.Fatalf("error is %T, want *ParseError: %v", err, err)
		}
		return "error: " + err.Error() + "\n"
	}
	s := pl.String()
	checkRoundTrip(t, s)
	return "canonical: " + s + "\n" + Dump(pl)
}

// checkRoundTrip checks that the canonical form parses to itself.
func checkRoundTrip(t *testing.T, canonical string) {
	t.Helper()
	again, err := Parse(canonical)
	if err != nil {
		t.Fatalf("canonical form %q does not parse: %v", canonical, err)
	}
	if s := again.String(); s != canonical {
		t.Fatalf("round trip changed the search:\n first %q\nsecond %q", canonical, s)
	}
}

func TestParseErrorsAreInvalid(t *testing.T) {
	_, err := Parse("| makeresults | fit MLTKContainer algo=x a from")
	var pe *ParseError
	if !errors.As(err, &pe) {
		t.Fatalf("got %v", err)
	}
	want := `line 1, column 48: expected a feature field after "from", found end of search`
	if err.Error() != want {
		t.Fatalf("got %q, want %q", err.Error(), want)
	}
}

func TestPositionsCountLinesAndColumns(t *testing.T) {
	_, err := Parse("| makeresults\n| eval x = 1 +\n| head")
	if err == nil || !strings.HasPrefix(err.Error(), "line 3, column 1:") {
		t.Fatalf("got %v", err)
	}
}

func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/parse/*.spl")
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err == nil {
			f.Add(string(b))
		}
	}
	f.Add(`a "b\"c" NOT (d OR e*) x!=1 | eval y = -(-x) . "s" | where NOT y > 2 AND z = "q"`)
	f.Fuzz(checkParseProperty)
}

// checkParseProperty is what the fuzz target asserts for any input: an
// error with a position, or a tree whose String() parses back to itself.
func checkParseProperty(t *testing.T, src string) {
	pl, err := Parse(src)
	if err != nil {
		var pe *ParseError
		if !errors.As(err, &pe) || pe.Pos.Line < 1 || pe.Pos.Col < 1 {
			t.Fatalf("bad error for %q: %v", src, err)
		}
		return
	}
	checkRoundTrip(t, pl.String())
}

// TestParseMutations fuzzes for a short, repeatable while in every test
// run: twenty thousand seeded random edits of the golden searches (bytes
// inserted, deleted or replaced from the language's own punctuation and
// keywords) must each keep the parse property. `go test -fuzz FuzzParse`
// explores further.
func TestParseMutations(t *testing.T) {
	files, _ := filepath.Glob("testdata/parse/*.spl")
	var seeds []string
	for _, file := range files {
		if b, err := os.ReadFile(file); err == nil {
			seeds = append(seeds, string(b))
		}
	}
	if len(seeds) == 0 {
		t.Fatal("no seed searches in testdata/parse")
	}
	pieces := []string{"|", "(", ")", "[", "]", "\"", "\\", "=", "!=", "<", ">=", ",", ".", "*", "-", "+", "%",
		" ", "\n", "AND", "OR", "NOT", "by", "as", "into", "from", "app:", "@", "fit", "eval", "stats", "1e9", "'"}
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 20000; i++ {
		src := []byte(seeds[rng.IntN(len(seeds))])
		for edits := 1 + rng.IntN(3); edits > 0; edits-- {
			at := 0
			if len(src) > 0 {
				at = rng.IntN(len(src))
			}
			switch rng.IntN(3) {
			case 0:
				src = append(src[:at], append([]byte(pieces[rng.IntN(len(pieces))]), src[at:]...)...)
			case 1:
				if len(src) > 0 {
					src = append(src[:at], src[at+1:]...)
				}
			default:
				if len(src) > 0 {
					src[at] = byte(rng.IntN(128))
				}
			}
		}
		checkParseProperty(t, string(src))
	}
}
