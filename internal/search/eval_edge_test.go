package search

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/dockyard/dockyard/internal/errdefs"
)

// TestEvalEdgeValues checks values at the edges of what eval computes:
// overflow, division by zero, huge counts and patterns that used to take
// exponential time.
func TestEvalEdgeValues(t *testing.T) {
	long := strings.Repeat("a", 4000)
	tests := []struct {
		name, expr string
		want       string // "" means null (the field is absent)
	}{
		{"overflow is null", "1e308*10", ""},
		{"negative overflow is null", "-1e308*10", ""},
		{"sum overflow is null", "1e308+1e308", ""},
		{"zero by zero is null", "0/0", ""},
		{"division by zero is null", "1/0", ""},
		{"modulo zero is null", "5%0", ""},
		{"round to more digits than a float holds", "round(1.5, 400)", "1.5"},
		{"round an overflow", "round(1e308*10, 2)", ""},
		{"substr with a huge length", `substr("abc", 1, 1e300)`, "abc"},
		{"substr with the largest int length", `substr("abc", 2, 9223372036854775807)`, "bc"},
		{"substr with a huge start", `substr("abc", 1e300)`, ""},
		{"like with many %", `like("` + long + `", "` + strings.Repeat("%a", 15) + `%b")`, "false"},
		{"like with many % that matches", `like("` + long + `b", "` + strings.Repeat("%a", 15) + `%b")`, "true"},
		{"like _ is one character", `like("é", "_")`, "true"},
		{"like trailing %", `like("ab", "a%%b%")`, "true"},
		{"like empty", `like("", "%")`, "true"},
		{"like no match", `like("abc", "a_")`, "false"},
		{"long concatenation chain", `len("a"` + strings.Repeat(` . "a"`, 20000) + `)`, "20001"},
		{"concatenation with a null", `"a" . null() . "b"`, ""},
		{"concatenation of numbers", `1 . 2 . "x"`, "12x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := Collect(context.Background(), "| makeresults | eval x="+tt.expr+" | fields x", &Env{})
			if err != nil {
				t.Fatal(err)
			}
			if got := res.Rows[0].Get("x").String(); got != tt.want {
				t.Errorf("eval x=%.80s: got %q, want %q", tt.expr, got, tt.want)
			}
		})
	}
}

// TestEvalValueLimit: a value that doubles in every eval stops the search
// with an error naming the limit rather than exhausting memory.
func TestEvalValueLimit(t *testing.T) {
	tests := []struct{ name, search string }{
		{"concatenation", `| makeresults | eval x="abcdefgh"` + strings.Repeat(" | eval x=x . x", 40)},
		{"plus", `| makeresults | eval x="abcdefgh"` + strings.Repeat(" | eval x=x + x", 40)},
		{"replace", `| makeresults | eval x="abcdefgh"` + strings.Repeat(` | eval x=replace(x, "", "abcdefgh")`, 12)},
		{"in where", `| makeresults | eval x="abcdefgh"` + strings.Repeat(" | eval x=x . x", 21) + " | where len(x . x . x) > 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Collect(context.Background(), tt.search, &Env{})
			if !errdefs.IsLimit(err) || !strings.Contains(err.Error(), "per value") {
				t.Fatalf("got %v, want a limit error about the value size", err)
			}
		})
	}
}

func TestStatsOverflowIsNull(t *testing.T) {
	env := &Env{Limits: Limits{MaxRows: 100, MaxTime: time.Minute}}
	res, err := Collect(context.Background(), `| makeresults count=3 | eval x = 1e308 | stats sum(x) as s avg(x) as a stdev(x) as d`, env)
	if err != nil {
		t.Fatal(err)
	}
	r := res.Rows[0]
	for _, f := range []string{"s", "a", "d"} {
		if v := r.Get(f); !v.IsNull() && strings.Contains(v.String(), "Inf") {
			t.Errorf("%s = %q, want null or a finite number", f, v.String())
		}
	}
	if !r.Get("s").IsNull() {
		t.Errorf("sum past float64's range = %q, want null", r.Get("s").String())
	}
}
