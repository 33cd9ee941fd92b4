package spl

import (
	"strconv"
	"strings"
)

// JSONStep is one step of a Splunk JSON path such as a.b{0}.c{}: a name
// (Index -1), an array index in braces, or {} for every element (Index
// -2).
type JSONStep struct {
	Name  string
	Index int
}

// ParseJSONPath splits a JSON path into its steps; false when a brace is
// not closed or holds no number. The parser checks the paths of spath
// with it, and eval's spath and json_extract follow them.
func ParseJSONPath(p string) ([]JSONStep, bool) {
	var steps []JSONStep
	for p != "" {
		switch {
		case p[0] == '.':
			p = p[1:]
		case p[0] == '{':
			end := strings.IndexByte(p, '}')
			if end < 0 {
				return nil, false
			}
			if end == 1 {
				steps = append(steps, JSONStep{Index: -2})
			} else {
				n, err := strconv.Atoi(p[1:end])
				if err != nil {
					return nil, false
				}
				steps = append(steps, JSONStep{Index: n})
			}
			p = p[end+1:]
		default:
			end := strings.IndexAny(p, ".{")
			if end < 0 {
				end = len(p)
			}
			steps = append(steps, JSONStep{Name: p[:end], Index: -1})
			p = p[end:]
		}
	}
	return steps, true
}
