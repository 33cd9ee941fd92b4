package search

import (
	"context"
	"strings"

	"github.com/dockyard/dockyard/internal/spl"
)

type assign struct {
	field string
	f     evalFn
	tmpl  bool // field has {FIELD} parts, named by the row's values
}

// fieldTemplate expands the {FIELD} parts of an eval target with the row's
// values; ok is false when one of them is null.
func fieldTemplate(tmpl string, r *Row) (string, bool) {
	var b strings.Builder
	for {
		i := strings.IndexByte(tmpl, '{')
		j := strings.IndexByte(tmpl, '}')
		if i < 0 || j < i {
			b.WriteString(tmpl)
			return b.String(), true
		}
		v := r.Get(tmpl[i+1 : j])
		if v.IsNull() {
			return "", false
		}
		b.WriteString(tmpl[:i])
		b.WriteString(v.String())
		tmpl = tmpl[j+1:]
	}
}

type eval struct {
	assigns []assign
	x       *exprEnv
}

func compileEval(c *spl.Eval) (Command, error) {
	e := eval{x: &exprEnv{}}
	for _, a := range c.Assigns {
		f, err := compileExpr(a.Expr, e.x)
		if err != nil {
			return nil, err
		}
		tmpl := strings.Contains(a.Field, "{") && strings.Contains(a.Field, "}")
		e.assigns = append(e.assigns, assign{field: a.Field, f: f, tmpl: tmpl})
	}
	return e, nil
}

func (e eval) Run(_ context.Context, in RowIter, env *Env) (RowIter, error) {
	e.x.reset(env)
	return exprStream(in, func(r *Row) (*Row, error) {
		for _, a := range e.assigns {
			v, err := runExpr(a.f, r)
			if err != nil {
				return nil, err
			}
			field := a.field
			if a.tmpl {
				var ok bool
				if field, ok = fieldTemplate(field, r); !ok {
					continue
				}
			}
			if v.IsNull() {
				r.Delete(field)
			} else {
				r.Set(field, v)
			}
		}
		return r, nil
	}), nil
}

// exprStream is streamFn for the commands that evaluate expressions, which
// can fail (a value over the limit): the error ends the stream.
func exprStream(in RowIter, f func(r *Row) (*Row, error)) RowIter {
	return func(yield func(*Row, error) bool) {
		for r, err := range in {
			if err == nil {
				r, err = f(r)
			}
			if err != nil {
				yield(nil, err)
				return
			}
			if r != nil && !yield(r, nil) {
				return
			}
		}
	}
}

type where struct {
	f evalFn
	x *exprEnv
}

func (w where) Run(_ context.Context, in RowIter, env *Env) (RowIter, error) {
	w.x.reset(env)
	return exprStream(in, func(r *Row) (*Row, error) {
		v, err := runExpr(w.f, r)
		if err != nil || !v.Truthy() {
			return nil, err
		}
		return r, nil
	}), nil
}

// project keeps the named fields (wildcards allowed) in the order named.
type project struct{ fields []string }

func (p project) Run(_ context.Context, in RowIter, _ *Env) (RowIter, error) {
	return streamFn(in, func(r *Row) (*Row, bool) {
		out := NewRow(len(p.fields))
		for _, pat := range p.fields {
			if !strings.Contains(pat, "*") {
				if i := r.index(pat); i >= 0 && !out.Has(pat) {
					out.Fields = append(out.Fields, r.Fields[i])
				}
				continue
			}
			for _, f := range r.Fields {
				if wildcardMatch(pat, f.Name, false) && !out.Has(f.Name) {
					out.Fields = append(out.Fields, f)
				}
			}
		}
		return out, true
	}), nil
}

type removeFields struct{ fields []string }

func (p removeFields) Run(_ context.Context, in RowIter, _ *Env) (RowIter, error) {
	return streamFn(in, func(r *Row) (*Row, bool) {
		kept := r.Fields[:0]
		for _, f := range r.Fields {
			drop := false
			for _, pat := range p.fields {
				if wildcardMatch(pat, f.Name, false) {
					drop = true
					break
				}
			}
			if !drop {
				kept = append(kept, f)
			}
		}
		r.Fields = kept
		return r, true
	}), nil
}

type rename struct{ c *spl.Rename }

func (rn rename) Run(_ context.Context, in RowIter, _ *Env) (RowIter, error) {
	return streamFn(in, func(r *Row) (*Row, bool) {
		for _, p := range rn.c.Pairs {
			if !strings.Contains(p.From, "*") {
				if i := r.index(p.From); i >= 0 && p.From != p.To {
					v := r.Fields[i].Value
					r.Delete(p.To)
					r.Fields[r.index(p.From)] = Field{Name: p.To, Value: v}
				}
				continue
			}
			for i := range r.Fields {
				if to, ok := renameWild(p.From, p.To, r.Fields[i].Name); ok {
					r.Fields[i].Name = to
				}
			}
		}
		return r, true
	}), nil
}

// renameWild maps name through a from→to pattern pair whose * wildcards
// correspond in order.
func renameWild(from, to, name string) (string, bool) {
	if !wildcardMatch(from, name, false) {
		return "", false
	}
	parts := strings.Split(from, "*")
	var caps []string
	s := name[len(parts[0]):]
	for i, p := range parts[1:] {
		var j int
		if i == len(parts)-2 {
			j = len(s) - len(p)
		} else {
			j = strings.Index(s, p)
		}
		caps = append(caps, s[:j])
		s = s[j+len(p):]
	}
	toParts := strings.Split(to, "*")
	var b strings.Builder
	for i, p := range toParts {
		b.WriteString(p)
		if i < len(toParts)-1 && i < len(caps) {
			b.WriteString(caps[i])
		}
	}
	return b.String(), true
}

type head struct{ n int }

func (h head) Run(_ context.Context, in RowIter, _ *Env) (RowIter, error) {
	return func(yield func(*Row, error) bool) {
		if h.n <= 0 {
			return
		}
		n := 0
		for r, err := range in {
			if err != nil {
				yield(nil, err)
				return
			}
			n++
			if !yield(r, nil) || n >= h.n {
				return // stops upstream work
			}
		}
	}, nil
}
