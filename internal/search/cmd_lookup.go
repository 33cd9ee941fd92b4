package search

import (
	"context"
	"slices"

	"github.com/dockyard/dockyard/internal/spl"
)

// lookup enriches each row from a lookup table: rows whose input fields
// equal the table's (exactly, case-sensitive) get the table's output
// fields; several matching table rows give multivalues in table order.
// OUTPUT overwrites the row's fields, OUTPUTNEW fills only missing ones;
// a row without a match keeps its fields.
type lookup struct{ c *spl.Lookup }

func (l lookup) Run(ctx context.Context, in RowIter, env *Env) (RowIter, error) {
	rc, name, err := openLookup(ctx, env, l.c.Table)
	if err != nil {
		return nil, err
	}
	return func(yield func(*Row, error) bool) {
		table, err := keepRows(ReadCSV(name, rc), env.mem())
		rc.Close()
		if err != nil {
			yield(nil, err)
			return
		}
		lookupFields := make([]string, len(l.c.Inputs))
		rowFields := make([]string, len(l.c.Inputs))
		for i, p := range l.c.Inputs {
			lookupFields[i], rowFields[i] = p.From, p.To
		}
		outputs := l.c.Outputs
		if l.c.Output == "" {
			for _, f := range FieldsOf(table) {
				if !slices.Contains(lookupFields, f) {
					outputs = append(outputs, spl.RenamePair{From: f, To: f})
				}
			}
		}
		index := map[string][]*Row{}
		var buf []byte
		for _, r := range table {
			var ok bool
			if buf, ok = groupKey(lookupFields, r, buf); ok {
				index[string(buf)] = append(index[string(buf)], r)
			}
		}
		for r, err := range in {
			if err != nil {
				yield(nil, err)
				return
			}
			var ok bool
			buf, ok = groupKey(rowFields, r, buf)
			if ms := index[string(buf)]; ok && len(ms) > 0 {
				for _, o := range outputs {
					if l.c.Output == "OUTPUTNEW" && !r.Get(o.To).IsNull() {
						continue
					}
					var vals []string
					for _, m := range ms {
						vals = append(vals, m.Get(o.From).Values()...)
					}
					if v := MultiValue(vals); v.IsNull() {
						r.Delete(o.To)
					} else {
						r.Set(o.To, v)
					}
				}
			}
			if !yield(r, nil) {
				return
			}
		}
	}, nil
}
