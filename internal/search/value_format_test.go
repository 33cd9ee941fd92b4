package search

import "testing"

func TestNumberFormatting(t *testing.T) {
	cases := map[float64]string{
		3:                 "3",
		-2.5:              "-2.5",
		0.1:               "0.1",
		1795670347.504183: "1795670347.504183",
		1e15:              "1000000000000000",
		1e25:              "1e+25",
		1.5e-9:            "1.5e-09",
		0:                 "0",
	}
	for f, want := range cases {
		if got := NumValue(f).String(); got != want {
			t.Errorf("%v prints as %q, want %q", f, got, want)
		}
		if got := string(appendValue(nil, NumValue(f))); got != want {
			t.Errorf("%v appends as %q, want %q", f, got, want)
		}
	}
}
