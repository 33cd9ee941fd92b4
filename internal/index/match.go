package index

import (
	"regexp"
	"strings"
)

// matcher checks exactly what the store's full-text index only narrows:
// every term occurs, case-insensitively, in _raw or an indexed field value.
type matcher struct {
	plain []string         // lower-cased terms without wildcards
	globs []*regexp.Regexp // terms with '*'
}

func newMatcher(terms []string) matcher {
	var m matcher
	for _, t := range terms {
		if strings.Trim(t, "*") == "" {
			continue // "*" matches everything
		}
		if !strings.Contains(t, "*") {
			m.plain = append(m.plain, strings.ToLower(t))
			continue
		}
		parts := strings.Split(t, "*")
		for i, p := range parts {
			parts[i] = regexp.QuoteMeta(p)
		}
		m.globs = append(m.globs, regexp.MustCompile(`(?is)`+strings.Join(parts, ".*")))
	}
	return m
}

func (m matcher) match(raw string, fields map[string]string) bool {
	if len(m.plain) == 0 && len(m.globs) == 0 {
		return true
	}
	hay := []string{strings.ToLower(raw)}
	for _, v := range fields {
		hay = append(hay, strings.ToLower(v))
	}
	for _, t := range m.plain {
		found := false
		for _, h := range hay {
			if strings.Contains(h, t) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	for _, re := range m.globs {
		found := false
		for _, h := range hay {
			if re.MatchString(h) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}
