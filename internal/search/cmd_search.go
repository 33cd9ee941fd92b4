package search

import (
	"context"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/events"
	"github.com/dockyard/dockyard/internal/spl"
)

// pred is a compiled search expression.
type pred func(r *Row, t *timeBounds) bool

// timeBounds are the earliest=/latest= values, resolved when the search
// runs.
type timeBounds struct {
	now time.Time
	// subs are the predicates the subsearches among the terms made
	// (prepareSubs).
	subs map[*spl.SearchSub]pred
}

// compileSearchExpr compiles a search expression into a row predicate.
// earliest= and latest= compare against _time.
func compileSearchExpr(e spl.SearchExpr) (pred, error) {
	switch e := e.(type) {
	case nil:
		return func(*Row, *timeBounds) bool { return true }, nil
	case *spl.SearchAnd:
		ps, err := compileAll(e.Terms)
		if err != nil {
			return nil, err
		}
		return func(r *Row, t *timeBounds) bool {
			for _, p := range ps {
				if !p(r, t) {
					return false
				}
			}
			return true
		}, nil
	case *spl.SearchOr:
		ps, err := compileAll(e.Terms)
		if err != nil {
			return nil, err
		}
		return func(r *Row, t *timeBounds) bool {
			for _, p := range ps {
				if p(r, t) {
					return true
				}
			}
			return false
		}, nil
	case *spl.SearchNot:
		p, err := compileSearchExpr(e.X)
		if err != nil {
			return nil, err
		}
		return func(r *Row, t *timeBounds) bool { return !p(r, t) }, nil
	case *spl.SearchGroup:
		return compileSearchExpr(e.X)
	case *spl.Term:
		return termPred(e), nil
	case *spl.Compare:
		return comparePred(e)
	case *spl.SearchSub:
		return subsearchPred(e)
	}
	return nil, spl.Errorf(e.Position(), "unsupported search expression %s", e)
}

func compileAll(es []spl.SearchExpr) ([]pred, error) {
	ps := make([]pred, len(es))
	for i, e := range es {
		p, err := compileSearchExpr(e)
		if err != nil {
			return nil, err
		}
		ps[i] = p
	}
	return ps, nil
}

// termPred matches a term or phrase, case-insensitively, inside _raw, or
// inside any field value when the row has no _raw.
func termPred(e *spl.Term) pred {
	pat := strings.ToLower(e.Text)
	wild := !e.Quoted && strings.Contains(pat, "*")
	match := func(s string) bool {
		s = strings.ToLower(s)
		if wild {
			return wildcardMatch("*"+pat+"*", s, false)
		}
		return strings.Contains(s, pat)
	}
	return func(r *Row, _ *timeBounds) bool {
		if raw := r.Get("_raw"); !raw.IsNull() {
			return match(raw.String())
		}
		for _, f := range r.Fields {
			for _, v := range f.Value.Values() {
				if match(v) {
					return true
				}
			}
		}
		return false
	}
}

func comparePred(e *spl.Compare) (pred, error) {
	field := e.Field
	if f := strings.ToLower(field); f == "earliest" || f == "latest" {
		if e.Op != "=" {
			return nil, spl.Errorf(e.Pos, "%s takes =, not %s", f, e.Op)
		}
		if _, err := ParseTime(e.Value, time.Now()); err != nil {
			return nil, spl.Errorf(e.Pos, "%s", err.Error())
		}
		val, isEarliest := e.Value, f == "earliest"
		return func(r *Row, t *timeBounds) bool {
			bound, _ := ParseTime(val, t.now)
			tv, ok := r.Get("_time").Number()
			if !ok || bound.IsZero() {
				return true
			}
			sec := float64(bound.UnixNano()) / 1e9
			if isEarliest {
				return tv >= sec
			}
			return tv < sec
		}, nil
	}
	want := StrValue(e.Value)
	wild := strings.Contains(e.Value, "*") && !e.Quoted
	op := e.Op
	return func(r *Row, _ *timeBounds) bool {
		v := r.Get(field)
		if v.IsNull() {
			return false
		}
		matched := false
		for _, s := range v.Values() {
			var ok bool
			switch {
			case op == "=" || op == "!=":
				if wild {
					ok = wildcardMatch(e.Value, s, true)
				} else {
					ok = strings.EqualFold(s, e.Value) || Compare(StrValue(s), want) == 0
				}
				if op == "!=" {
					ok = !ok
				}
			default:
				ok = cmpOp(op, Compare(StrValue(s), want))
			}
			matched = matched || ok
		}
		return matched
	}, nil
}

// filter is a search command after the first: it keeps matching rows.
type filter struct {
	p    pred
	expr spl.SearchExpr
}

func compileFilter(c *spl.Search) (Command, error) {
	p, err := compileSearchExpr(c.Expr)
	if err != nil {
		return nil, err
	}
	return filter{p: p, expr: c.Expr}, nil
}

func (f filter) Run(ctx context.Context, in RowIter, env *Env) (RowIter, error) {
	tb := &timeBounds{now: env.now()}
	if err := prepareSubs(ctx, env, f.expr, tb); err != nil {
		return nil, err
	}
	return streamFn(in, func(r *Row) (*Row, bool) {
		if f.p(r, tb) {
			return r, true
		}
		return nil, true
	}), nil
}

// eventSearch is a leading search: it reads events through env.Events and
// applies the whole boolean expression to each.
type eventSearch struct {
	c *spl.Search
	p pred
}

func compileEventSearch(c *spl.Search) (Command, error) {
	p, err := compileSearchExpr(c.Expr)
	if err != nil {
		return nil, err
	}
	return eventSearch{c: c, p: p}, nil
}

// conjuncts returns the top-level ANDed terms of e.
func conjuncts(e spl.SearchExpr) []spl.SearchExpr {
	switch e := e.(type) {
	case nil:
		return nil
	case *spl.SearchAnd:
		var out []spl.SearchExpr
		for _, t := range e.Terms {
			out = append(out, conjuncts(t)...)
		}
		return out
	case *spl.SearchGroup:
		return conjuncts(e.X)
	}
	return []spl.SearchExpr{e}
}

// indexNames collects index=NAME values that are not under a NOT.
func indexNames(e spl.SearchExpr, out *[]string) {
	switch e := e.(type) {
	case *spl.SearchAnd:
		for _, t := range e.Terms {
			indexNames(t, out)
		}
	case *spl.SearchOr:
		for _, t := range e.Terms {
			indexNames(t, out)
		}
	case *spl.SearchGroup:
		indexNames(e.X, out)
	case *spl.Compare:
		if strings.EqualFold(e.Field, "index") && e.Op == "=" {
			name := e.Value
			if strings.Contains(name, "*") && !e.Quoted {
				name = "*"
			}
			if !slices.Contains(*out, name) {
				*out = append(*out, name)
			}
		}
	}
}

// Query returns the index query a leading search runs: its indexes, the
// positive terms of its top-level AND, and its time range.
func Query(c *spl.Search, now time.Time, defaults []string) (events.Query, error) {
	q := events.Query{Reverse: true}
	indexNames(c.Expr, &q.Indexes)
	if len(q.Indexes) == 0 {
		if len(defaults) == 0 {
			return q, spl.Errorf(c.Pos, "the search names no index: add index=NAME (for example index=main)")
		}
		q.Indexes = slices.Clone(defaults)
	}
	for _, t := range conjuncts(c.Expr) {
		switch t := t.(type) {
		case *spl.Term:
			if !strings.Contains(t.Text, "*") && t.Text != "" {
				q.Terms = append(q.Terms, t.Text)
			}
		case *spl.Compare:
			f := strings.ToLower(t.Field)
			if (f == "earliest" || f == "latest") && t.Op == "=" {
				tm, err := ParseTime(t.Value, now)
				if err != nil {
					return q, spl.Errorf(t.Pos, "%s", err.Error())
				}
				if f == "earliest" {
					q.Earliest = tm
				} else {
					q.Latest = tm
				}
			}
		}
	}
	return q, nil
}

func (s eventSearch) Run(ctx context.Context, _ RowIter, env *Env) (RowIter, error) {
	now := env.now()
	q, err := Query(s.c, now, env.DefaultIndexes)
	if err != nil {
		return nil, err
	}
	if env.Events == nil {
		return nil, errdefs.Unavailable("event indexes are not available in this search context")
	}
	tb := &timeBounds{now: now}
	if err := prepareSubs(ctx, env, s.c.Expr, tb); err != nil {
		return nil, err
	}
	events := env.Events.Events(ctx, q)
	return func(yield func(*Row, error) bool) {
		for ev, err := range events {
			if err != nil {
				yield(nil, err)
				return
			}
			r := EventRow(ev)
			if s.p(r, tb) && !yield(r, nil) {
				return
			}
		}
	}, nil
}

// EventRow turns an event into a row: _time (epoch seconds), index, host,
// source, sourcetype, the event's fields (sorted by name), then _raw.
func EventRow(ev events.Event) *Row {
	r := NewRow(6 + len(ev.Fields))
	r.Fields = append(r.Fields,
		Field{"_time", NumValue(float64(ev.Time.UnixNano()) / 1e9)},
		Field{"index", StrValue(ev.Index)},
		Field{"host", StrValue(ev.Host)},
		Field{"source", StrValue(ev.Source)},
		Field{"sourcetype", StrValue(ev.Sourcetype)})
	for _, k := range slices.Sorted(maps.Keys(ev.Fields)) {
		if !r.Has(k) {
			r.Fields = append(r.Fields, Field{k, StrValue(ev.Fields[k])})
		}
	}
	r.Fields = append(r.Fields, Field{"_raw", StrValue(ev.Raw)})
	return r
}
