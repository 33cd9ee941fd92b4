package search

import (
	"bytes"
	"context"

	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/spl"
)

type makeresults struct{ c *spl.Makeresults }

func (m makeresults) Run(ctx context.Context, _ RowIter, env *Env) (RowIter, error) {
	if max := env.Limits.MaxRows; max > 0 && m.c.Count > max {
		return nil, errdefs.Limitf("makeresults count=%d is over the row limit of %d (search.max_rows): ask for fewer rows or ask an admin to raise the limit", m.c.Count, max)
	}
	now := NumValue(float64(env.now().Unix()))
	return func(yield func(*Row, error) bool) {
		for i := 0; i < m.c.Count; i++ {
			r := NewRow(4)
			r.Fields = append(r.Fields, Field{Name: "_time", Value: now})
			if !yield(r, nil) {
				return
			}
		}
	}, nil
}

var errNoLookups = errdefs.Unavailable("lookups are not available in this search context")

type inputlookup struct{ c *spl.Inputlookup }

func (l inputlookup) Run(ctx context.Context, _ RowIter, env *Env) (RowIter, error) {
	rc, name, err := openLookup(ctx, env, l.c.Lookup)
	if err != nil {
		return nil, err
	}
	var where pred
	if l.c.Where != nil {
		if where, err = compileSearchExpr(l.c.Where); err != nil {
			rc.Close()
			return nil, err
		}
	}
	tb := &timeBounds{now: env.now()}
	if err := prepareSubs(ctx, env, l.c.Where, tb); err != nil {
		rc.Close()
		return nil, err
	}
	return func(yield func(*Row, error) bool) {
		defer rc.Close()
		for r, err := range ReadCSV(name, rc) {
			if err == nil && where != nil && !where(r, tb) {
				continue
			}
			if !yield(r, err) || err != nil {
				return
			}
		}
	}, nil
}

// outputlookup gathers its input (the CSV header needs every field), writes
// it as a lookup, then passes the rows on.
type outputlookup struct{ c *spl.Outputlookup }

func (l outputlookup) Run(ctx context.Context, in RowIter, env *Env) (RowIter, error) {
	if env.Lookups == nil {
		return nil, errNoLookups
	}
	return func(yield func(*Row, error) bool) {
		rows, err := keepRows(in, env.mem())
		if err != nil {
			yield(nil, err)
			return
		}
		var buf bytes.Buffer
		if err := WriteCSV(&buf, FieldsOf(rows), rows); err != nil {
			yield(nil, err)
			return
		}
		if err := env.Lookups.Write(ctx, env.App, l.c.Lookup, &buf); err != nil {
			yield(nil, err)
			return
		}
		env.Message("wrote %d rows to lookup %s", len(rows), l.c.Lookup)
		for _, r := range rows {
			if !yield(r, nil) {
				return
			}
		}
	}, nil
}
