package search

import "testing"

func TestWildcardMatch(t *testing.T) {
	for _, c := range []struct {
		pat, s string
		want   bool
	}{
		{"*", "x", true}, {"a*", "abc", true}, {"a*", "ba", false}, {"*c", "abc", true},
		{"a*c", "abc", true}, {"a*c", "ac", true}, {"a*b*c", "axbyc", true}, {"a*b*c", "acb", false},
		{"abc", "abc", true}, {"abc", "abd", false}, {"a*a", "a", false}, {"A*", "abc", false},
	} {
		if got := WildcardMatch(c.pat, c.s); got != c.want {
			t.Errorf("WildcardMatch(%q, %q) = %v, want %v", c.pat, c.s, got, c.want)
		}
	}
	if !wildcardMatch("A*C", "abc", true) || wildcardMatch("A*C", "abc", false) {
		t.Error("wildcardMatch folds case only when asked to")
	}
}
