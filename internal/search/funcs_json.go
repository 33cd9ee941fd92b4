package search

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/dockyard/dockyard/internal/spl"
)

func dedupStrings(el []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range el {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

func sortedStrings(el []string) []string {
	out := slices.Clone(el)
	slices.Sort(out)
	return out
}

// walkJSON follows steps from v and returns every value reached.
func walkJSON(v any, steps []spl.JSONStep) []any {
	cur := []any{v}
	for _, st := range steps {
		var next []any
		for _, c := range cur {
			switch {
			case st.Index == -1:
				if m, ok := c.(map[string]any); ok {
					if x, ok := m[st.Name]; ok {
						next = append(next, x)
					}
				}
			case st.Index == -2:
				if a, ok := c.([]any); ok {
					next = append(next, a...)
				}
			default:
				if a, ok := c.([]any); ok {
					i := st.Index
					if i < 0 {
						i += len(a)
					}
					if i >= 0 && i < len(a) {
						next = append(next, a[i])
					}
				}
			}
		}
		cur = next
	}
	return cur
}

func decodeJSON(v Value) (any, bool) {
	if v.IsNull() {
		return nil, false
	}
	d := json.NewDecoder(strings.NewReader(v.String()))
	d.UseNumber()
	var x any
	if err := d.Decode(&x); err != nil {
		return nil, false
	}
	return x, true
}

// jsonText prints a JSON value as Splunk's functions return it: strings
// bare, numbers as numbers, objects and arrays as compact JSON.
func jsonText(x any) Value {
	switch x := x.(type) {
	case nil:
		return NullValue
	case string:
		return StrValue(x)
	case json.Number:
		if f, err := x.Float64(); err == nil {
			return NumValue(f)
		}
		return StrValue(x.String())
	case bool:
		return Bool(x)
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(x); err != nil {
		return NullValue
	}
	return StrValue(strings.TrimSuffix(b.String(), "\n"))
}

// jsonExtract is json_extract(json, path...): with no path the whole
// value, with one the value at it (JSON text for objects and arrays), with
// several a JSON array of the values.
func jsonExtract(doc Value, paths []Value) Value {
	x, ok := decodeJSON(doc)
	if !ok {
		return NullValue
	}
	if len(paths) == 0 {
		return jsonText(x)
	}
	var all []any
	for _, p := range paths {
		steps, ok := spl.ParseJSONPath(p.String())
		if !ok {
			return NullValue
		}
		got := walkJSON(x, steps)
		switch len(got) {
		case 0:
			all = append(all, nil)
		case 1:
			all = append(all, got[0])
		default:
			all = append(all, got)
		}
	}
	if len(all) == 1 {
		return jsonText(all[0])
	}
	return jsonText(all)
}

// spathValue is eval's spath(json, path): the value at path; {} over an
// array gives a multivalue of its elements.
func spathValue(doc Value, path string) Value {
	x, ok := decodeJSON(doc)
	if !ok {
		return NullValue
	}
	steps, ok := spl.ParseJSONPath(path)
	if !ok {
		return NullValue
	}
	got := walkJSON(x, steps)
	out := make([]string, 0, len(got))
	for _, g := range got {
		if v := jsonText(g); !v.IsNull() {
			out = append(out, v.String())
		}
	}
	if len(out) == 1 {
		return jsonText(got[0])
	}
	return MultiValue(out)
}

// splPrintf formats like C's printf, as Splunk's printf does: %d %i %u %o
// %x %X %c %f %F %e %E %g %G %s %%, with flags, width and precision
// (* takes them from the arguments); %' adds thousands separators to %d.
func splPrintf(vs []Value) Value {
	if vs[0].IsNull() {
		return NullValue
	}
	f := vs[0].String()
	args := vs[1:]
	next := func() (Value, bool) {
		if len(args) == 0 {
			return NullValue, false
		}
		v := args[0]
		args = args[1:]
		return v, true
	}
	var b strings.Builder
	for i := 0; i < len(f); i++ {
		if f[i] != '%' {
			b.WriteByte(f[i])
			continue
		}
		j := i + 1
		var spec strings.Builder
		spec.WriteByte('%')
		commas := false
		for j < len(f) && strings.IndexByte("-+ #0'", f[j]) >= 0 {
			if f[j] == '\'' {
				commas = true
			} else {
				spec.WriteByte(f[j])
			}
			j++
		}
		digits := 0
		for j < len(f) && (isDigitByte(f[j]) || f[j] == '.' || f[j] == '*') {
			if isDigitByte(f[j]) {
				digits++
			} else {
				digits = 0
			}
			if digits > 3 { // widths and precisions up to 999
				j++
				continue
			}
			if f[j] == '*' {
				v, _ := next()
				n, _ := v.Number()
				spec.WriteString(strconv.Itoa(int(min(max(n, -1000), 1000))))
			} else {
				spec.WriteByte(f[j])
			}
			j++
		}
		for j < len(f) && strings.IndexByte("hlLqjzt", f[j]) >= 0 { // length modifiers
			j++
		}
		if j >= len(f) {
			b.WriteString(f[i:])
			break
		}
		verb := f[j]
		i = j
		if verb == '%' {
			b.WriteByte('%')
			continue
		}
		v, _ := next()
		n, isNum := v.Number()
		s := spec.String()
		switch verb {
		case 'd', 'i', 'u':
			if commas {
				b.WriteString(fmt.Sprintf(s+"s", commas3(int64(n))))
			} else {
				b.WriteString(fmt.Sprintf(s+"d", int64(n)))
			}
		case 'o', 'x', 'X':
			b.WriteString(fmt.Sprintf(s+string(verb), int64(n)))
		case 'c':
			if isNum {
				b.WriteString(fmt.Sprintf(s+"c", rune(n)))
			} else if r := []rune(v.String()); len(r) > 0 {
				b.WriteString(fmt.Sprintf(s+"c", r[0]))
			}
		case 'f', 'F', 'e', 'E', 'g', 'G':
			if verb == 'F' {
				verb = 'f'
			}
			b.WriteString(fmt.Sprintf(s+string(verb), n))
		case 's':
			b.WriteString(fmt.Sprintf(s+"s", v.String()))
		default:
			b.WriteString(f[strings.LastIndexByte(f[:j], '%') : j+1])
		}
		if b.Len() > maxValueLen {
			tooLong(b.Len())
		}
	}
	return StrValue(b.String())
}

func commas3(n int64) string { return commas(float64(n)) }
