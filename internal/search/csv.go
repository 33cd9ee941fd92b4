package search

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"

	"github.com/dockyard/dockyard/internal/errdefs"
)

// ReadCSV streams the rows of a CSV table whose first record is the header.
// Empty cells are null. name is used in error messages, which give the
// line number of a malformed record.
func ReadCSV(name string, r io.Reader) RowIter {
	return func(yield func(*Row, error) bool) {
		cr := csv.NewReader(r)
		cr.ReuseRecord = true
		header, err := cr.Read()
		if err == io.EOF {
			return
		}
		if err != nil {
			yield(nil, csvError(name, err))
			return
		}
		header = append([]string(nil), header...)
		for {
			rec, err := cr.Read()
			if err == io.EOF {
				return
			}
			if err != nil {
				yield(nil, csvError(name, err))
				return
			}
			row := NewRow(len(header))
			for i, h := range header {
				v := NullValue
				if rec[i] != "" {
					v = StrValue(rec[i])
				}
				row.Fields = append(row.Fields, Field{Name: h, Value: v})
			}
			if !yield(row, nil) {
				return
			}
		}
	}
}

func csvError(name string, err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return errdefs.Invalidf("lookup %s: line %d: %w: fix the CSV and upload it again", name, pe.Line, pe.Err)
	}
	return fmt.Errorf("lookup %s: %w", name, err)
}

// FieldsOf returns the union of the rows' field names in first-seen order.
func FieldsOf(rows []*Row) []string {
	var out []string
	seen := map[string]bool{}
	for _, r := range rows {
		for _, f := range r.Fields {
			if !seen[f.Name] {
				seen[f.Name] = true
				out = append(out, f.Name)
			}
		}
	}
	return out
}

// WriteCSV writes a header of fields and one record per row; missing and
// null fields are empty cells, multivalues are joined by newlines.
func WriteCSV(w io.Writer, fields []string, rows []*Row) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(fields); err != nil {
		return err
	}
	rec := make([]string, len(fields))
	for _, r := range rows {
		for i, f := range fields {
			rec[i] = r.Get(f).String()
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
