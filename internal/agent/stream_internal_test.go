package agent

import (
	"encoding/json"
	"testing"
)

func TestAppendJSONString(t *testing.T) {
	for _, s := range []string{"", "a,b\n1,2\n", "quote \" back \\ tab \t cr \r nul \x00 bell \x07", "ünïcödé,✓\n", "bad \xff utf8", "<html>&"} {
		got := appendJSONString(nil, []byte(s))
		var back string
		if err := json.Unmarshal(got, &back); err != nil {
			t.Errorf("appendJSONString(%q) = %s: not JSON: %v", s, got, err)
			continue
		}
		want := s
		if s == "bad \xff utf8" {
			want = "bad \ufffd utf8"
		}
		if back != want {
			t.Errorf("appendJSONString(%q) decodes to %q", s, back)
		}
	}
}

func TestRowCounter(t *testing.T) {
	for _, tc := range []struct {
		chunks []string
		want   int64
	}{
		{nil, 0},
		{[]string{"a,b\n"}, 0},
		{[]string{"a,b\n1,2\n"}, 1},
		{[]string{"a,b\n1,", "2\n3,4"}, 2},
		{[]string{"a,b"}, 0},
	} {
		c := &rowCounter{emit: func(int64) error { return nil }}
		for _, ch := range tc.chunks {
			c.Write([]byte(ch))
		}
		if got := c.rows(); got != tc.want {
			t.Errorf("rows(%q) = %d, want %d", tc.chunks, got, tc.want)
		}
	}
}
