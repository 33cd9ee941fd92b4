package wire

import (
	"bytes"
	"encoding/json"
	"fmt"
	"unicode/utf8"
)

// SearchRequest is the body of POST /v1/search.
type SearchRequest struct {
	Search string `json:"search"`
	App    string `json:"app,omitempty"` // default: the request's app (Dockyard-App, else the user's default app)
}

// SearchFrame is one line of the NDJSON answer of POST /v1/search: exactly
// one of its fields is set. A stream ends with a Done or an Error frame; a
// stream that ends without one was cut off.
type SearchFrame struct {
	Row      *Row            `json:"row,omitempty"`
	Progress *SearchProgress `json:"progress,omitempty"`
	Done     *SearchDone     `json:"done,omitempty"`
	Error    *SearchError    `json:"error,omitempty"`
}

// SearchProgress is sent now and then while a search runs.
type SearchProgress struct {
	Rows      int   `json:"rows"`       // result rows sent so far
	ElapsedMS int64 `json:"elapsed_ms"` // since the search started
}

// SearchDone ends a successful search.
type SearchDone struct {
	Messages  []string `json:"messages"`
	Rows      int      `json:"rows"`
	Fields    []string `json:"fields"` // every field seen, in first-seen order
	ElapsedMS int64    `json:"elapsed_ms"`
}

// SearchError ends a search that failed after its results began to stream.
// Code is one of the codes of Error; Line and Column point into the search
// when the error has a position.
type SearchError struct {
	Message string `json:"message"`
	Code    string `json:"code"`
	Line    int    `json:"line,omitempty"`
	Column  int    `json:"column,omitempty"`
}

// SearchResults is what `dockyard search -o json` prints.
type SearchResults struct {
	Results  []Row    `json:"results"`
	Messages []string `json:"messages"`
}

// Field is one named value of a result row.
type Field struct {
	Name  string
	Value string
}

// Row is a result row: its fields in order. It encodes as a JSON object
// whose keys keep that order, and decodes keeping the order of the object.
type Row []Field

// Get returns the value of field name.
func (r Row) Get(name string) (string, bool) {
	for _, f := range r {
		if f.Name == name {
			return f.Value, true
		}
	}
	return "", false
}

// Map returns the row as field name → value.
func (r Row) Map() map[string]string {
	m := make(map[string]string, len(r))
	for _, f := range r {
		m[f.Name] = f.Value
	}
	return m
}

// MarshalJSON writes the fields as an object in order.
func (r Row) MarshalJSON() ([]byte, error) {
	return r.AppendJSON(make([]byte, 0, 16+24*len(r))), nil
}

// AppendJSON appends the row's JSON object to b.
func (r Row) AppendJSON(b []byte) []byte {
	b = append(b, '{')
	for i, f := range r {
		if i > 0 {
			b = append(b, ',')
		}
		b = AppendJSONString(b, f.Name)
		b = append(b, ':')
		b = AppendJSONString(b, f.Value)
	}
	return append(b, '}')
}

// AppendJSONString appends s as a JSON string to b.
func AppendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c >= utf8.RuneSelf {
			q, _ := json.Marshal(s) // rare: escapes and non-ASCII
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// UnmarshalJSON reads an object keeping the order of its keys. Values that
// are not strings keep their JSON text (numbers, true, false), arrays are
// joined by newlines, and null is "".
func (r *Row) UnmarshalJSON(data []byte) error {
	if out, ok := parseFlatRow(data); ok {
		*r = out
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	t, err := dec.Token()
	if err != nil {
		return err
	}
	if t == nil {
		*r = nil
		return nil
	}
	if d, ok := t.(json.Delim); !ok || d != '{' {
		return fmt.Errorf("a result row must be a JSON object, not %.40s", data)
	}
	out := Row{}
	for dec.More() {
		kt, err := dec.Token()
		if err != nil {
			return err
		}
		key, _ := kt.(string)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return err
		}
		out = append(out, Field{Name: key, Value: rawText(raw)})
	}
	*r = out
	return nil
}

// parseFlatRow is the fast path of UnmarshalJSON for an object whose values
// are all strings, as the server sends them. ok is false for anything else,
// which the general decoder then reads (or rejects).
func parseFlatRow(b []byte) (Row, bool) {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return nil, false
	}
	out := make(Row, 0, 8)
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return out, skipSpace(b, i+1) == len(b)
	}
	for {
		k, j, ok := readString(b, i)
		if !ok {
			return nil, false
		}
		j = skipSpace(b, j)
		if j >= len(b) || b[j] != ':' {
			return nil, false
		}
		v, j, ok := readString(b, skipSpace(b, j+1))
		if !ok {
			return nil, false
		}
		out = append(out, Field{Name: k, Value: v})
		j = skipSpace(b, j)
		if j >= len(b) {
			return nil, false
		}
		switch b[j] {
		case ',':
			i = skipSpace(b, j+1)
		case '}':
			return out, skipSpace(b, j+1) == len(b)
		default:
			return nil, false
		}
	}
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// readString reads the JSON string starting at b[i] and returns its value
// and the index after it.
func readString(b []byte, i int) (string, int, bool) {
	if i >= len(b) || b[i] != '"' {
		return "", 0, false
	}
	escaped := false
	for j := i + 1; j < len(b); j++ {
		switch c := b[j]; {
		case c == '\\':
			escaped = true
			j++
		case c == '"':
			if !escaped {
				if !utf8.Valid(b[i+1 : j]) {
					return "", 0, false
				}
				return string(b[i+1 : j]), j + 1, true
			}
			var s string
			if json.Unmarshal(b[i:j+1], &s) != nil {
				return "", 0, false
			}
			return s, j + 1, true
		case c < 0x20:
			return "", 0, false
		}
	}
	return "", 0, false
}

func rawText(raw json.RawMessage) string {
	switch {
	case len(raw) == 0 || string(raw) == "null":
		return ""
	case raw[0] == '"':
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return s
		}
	case raw[0] == '[':
		var vs []json.RawMessage
		if json.Unmarshal(raw, &vs) == nil {
			var b bytes.Buffer
			for i, v := range vs {
				if i > 0 {
					b.WriteByte('\n')
				}
				b.WriteString(rawText(v))
			}
			return b.String()
		}
	}
	return string(raw)
}
