package search

import (
	"iter"
	"slices"
)

// Field is one named value of a row.
type Field struct {
	Name  string
	Value Value
}

// Row is one result: fields in order. A row handed to the next command
// belongs to it: producers never reuse a row after yielding it.
type Row struct {
	Fields []Field
}

// RowIter is a stream of rows. A consumer that stops early (head) makes
// yield return false, which stops the producer and everything upstream.
type RowIter = iter.Seq2[*Row, error]

// smallRow is a row and room for its first fields in one allocation.
type smallRow struct {
	row Row
	buf [4]Field
}

// NewRow returns a row with room for n fields.
func NewRow(n int) *Row {
	if n <= len(smallRow{}.buf) {
		s := &smallRow{}
		s.row.Fields = s.buf[:0]
		return &s.row
	}
	return &Row{Fields: make([]Field, 0, n)}
}

// Get returns the value of field name, or null.
func (r *Row) Get(name string) Value {
	for i := range r.Fields {
		if r.Fields[i].Name == name {
			return r.Fields[i].Value
		}
	}
	return NullValue
}

// Has reports whether the row has field name.
func (r *Row) Has(name string) bool { return r.index(name) >= 0 }

func (r *Row) index(name string) int {
	for i := range r.Fields {
		if r.Fields[i].Name == name {
			return i
		}
	}
	return -1
}

// Set sets field name, appending it if new.
func (r *Row) Set(name string, v Value) {
	if i := r.index(name); i >= 0 {
		r.Fields[i].Value = v
		return
	}
	r.Fields = append(r.Fields, Field{Name: name, Value: v})
}

// Delete removes field name.
func (r *Row) Delete(name string) {
	if i := r.index(name); i >= 0 {
		r.Fields = slices.Delete(r.Fields, i, i+1)
	}
}

// Names returns the field names in order.
func (r *Row) Names() []string {
	out := make([]string, len(r.Fields))
	for i, f := range r.Fields {
		out[i] = f.Name
	}
	return out
}

// Clone returns a copy of the row.
func (r *Row) Clone() *Row { return &Row{Fields: slices.Clone(r.Fields)} }

// Map returns the row as field name → string, for JSON output.
func (r *Row) Map() map[string]string {
	m := make(map[string]string, len(r.Fields))
	for _, f := range r.Fields {
		m[f.Name] = f.Value.String()
	}
	return m
}

// Empty is a RowIter with no rows.
func Empty(yield func(*Row, error) bool) {}

// FromRows streams the given rows.
func FromRows(rows []*Row) RowIter {
	return func(yield func(*Row, error) bool) {
		for _, r := range rows {
			if !yield(r, nil) {
				return
			}
		}
	}
}
