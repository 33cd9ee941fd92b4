package index

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strconv"
	"strings"
)

// kvRE finds key=value pairs: a key of letters, digits, '_' and '.'
// (starting with a letter or '_'), '=', and a double-quoted value or one
// that runs to the next space, comma or semicolon.
var kvRE = regexp.MustCompile(`([A-Za-z_][A-Za-z0-9_.]*)=("(?:[^"\\]|\\.)*"|[^\s,;"]*)`)

// ExtractFields returns the search-time fields of a _raw text: the
// top-level keys of a JSON object body (strings as they are, other values
// as compact JSON), or else every key=value pair (the first occurrence of a
// key wins; quoted values are unquoted). It returns nil when there are none.
func ExtractFields(raw string) map[string]string {
	if t := strings.TrimSpace(raw); strings.HasPrefix(t, "{") {
		if f := jsonFields(t); f != nil {
			return f
		}
	}
	var out map[string]string
	for _, m := range kvRE.FindAllStringSubmatchIndex(raw, -1) {
		if m[0] > 0 && isKeyChar(raw[m[0]-1]) {
			continue // the key started earlier: not a pair boundary
		}
		k, v := raw[m[2]:m[3]], raw[m[4]:m[5]]
		if strings.HasPrefix(v, `"`) {
			if u, err := strconv.Unquote(v); err == nil {
				v = u
			} else {
				v = strings.Trim(v, `"`)
			}
		}
		if out == nil {
			out = map[string]string{}
		}
		if _, dup := out[k]; !dup {
			out[k] = v
		}
	}
	return out
}

func isKeyChar(c byte) bool {
	return c == '_' || c == '.' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

func jsonFields(s string) map[string]string {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var obj map[string]json.RawMessage
	if err := dec.Decode(&obj); err != nil || dec.More() {
		return nil
	}
	out := make(map[string]string, len(obj))
	for k, v := range obj {
		var str string
		if json.Unmarshal(v, &str) == nil {
			out[k] = str
			continue
		}
		var b bytes.Buffer
		if json.Compact(&b, v) == nil {
			out[k] = b.String()
		}
	}
	return out
}
