package models

import "testing"

func TestParseRef(t *testing.T) {
	cases := []struct {
		in   string
		want Ref
		err  bool
	}{
		{in: "IrisModel", want: Ref{Name: "IrisModel"}},
		{in: "app:IrisModel", want: Ref{AppShared: true, Name: "IrisModel"}},
		{in: "app:Iris_Model-2.v1@3", want: Ref{AppShared: true, Name: "Iris_Model-2.v1", Version: 3}},
		{in: "M@production", want: Ref{Name: "M", Alias: "production"}},
		{in: "M@current", want: Ref{Name: "M", Alias: "current"}},
		{in: "", err: true},
		{in: "app:", err: true},
		{in: "M@", err: true},
		{in: "M@0", err: true},
		{in: "M@-1", err: true},
		{in: "M@3x", err: true},
		{in: "M@prod@1", err: true},
		{in: "bad name", err: true},
		{in: "a/b", err: true},
		{in: ".hidden", err: true},
		{in: "x:M", err: true},
	}
	for _, c := range cases {
		got, err := ParseRef(c.in)
		if c.err {
			if err == nil {
				t.Errorf("ParseRef(%q) = %+v, want an error", c.in, got)
			}
			mustKind(t, "ParseRef "+c.in, err, "invalid")
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("ParseRef(%q) = %+v, %v; want %+v", c.in, got, err, c.want)
			continue
		}
		if got.String() != c.in {
			t.Errorf("ParseRef(%q).String() = %q", c.in, got.String())
		}
	}
}
