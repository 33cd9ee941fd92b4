package search

import (
	"context"
	"math/rand/v2"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/dockyard/dockyard/internal/spl"
)

// optInt returns a whole-number option (checked by the parser) or def.
func optInt(opts []spl.Option, key string, def int) int {
	if v, ok := spl.OptionValue(opts, key); ok {
		if n, err := strconv.Atoi(v); err == nil {
			return n
		}
	}
	return def
}

func optBool(opts []spl.Option, key string, def bool) bool {
	if v, ok := spl.OptionValue(opts, key); ok {
		if b, err := strconv.ParseBool(v); err == nil {
			return b
		}
	}
	return def
}

func optStr(opts []spl.Option, key, def string) string {
	if v, ok := spl.OptionValue(opts, key); ok {
		return v
	}
	return def
}

type fillnull struct{ c *spl.Fillnull }

func (f fillnull) Run(_ context.Context, in RowIter, env *Env) (RowIter, error) {
	v := StrValue(optStr(f.c.Options, "value", "0"))
	fill := func(r *Row, fields []string) {
		for _, name := range fields {
			if r.Get(name).IsNull() {
				r.Set(name, v)
			}
		}
	}
	if len(f.c.Fields) > 0 {
		return streamFn(in, func(r *Row) (*Row, bool) { fill(r, f.c.Fields); return r, true }), nil
	}
	// Without a field list every field of the results is filled, so the
	// rows are gathered first to learn the fields.
	return func(yield func(*Row, error) bool) {
		rows, err := keepRows(in, env.mem())
		if err != nil {
			yield(nil, err)
			return
		}
		names := FieldsOf(rows)
		for _, r := range rows {
			fill(r, names)
			if !yield(r, nil) {
				return
			}
		}
	}, nil
}

type makemv struct {
	c   *spl.Makemv
	tok *regexp.Regexp
}

func (m makemv) Run(_ context.Context, in RowIter, _ *Env) (RowIter, error) {
	delim := optStr(m.c.Options, "delim", " ")
	allowEmpty := optBool(m.c.Options, "allowempty", false)
	if t, ok := spl.OptionValue(m.c.Options, "tokenizer"); ok {
		m.tok = regexp.MustCompile(t) // checked by the parser
	}
	return streamFn(in, func(r *Row) (*Row, bool) {
		v := r.Get(m.c.Field)
		if v.IsNull() {
			return r, true
		}
		s := v.String()
		var parts []string
		if m.tok != nil {
			for _, sm := range m.tok.FindAllStringSubmatch(s, -1) {
				parts = append(parts, sm[min(1, len(sm)-1)])
			}
		} else {
			parts = strings.Split(s, delim)
		}
		if !allowEmpty {
			parts = slices.DeleteFunc(parts, func(p string) bool { return p == "" })
		}
		if len(parts) == 0 {
			r.Delete(m.c.Field)
		} else {
			r.Set(m.c.Field, MultiValue(parts))
		}
		return r, true
	}), nil
}

type mvexpand struct{ c *spl.Mvexpand }

func (m mvexpand) Run(_ context.Context, in RowIter, _ *Env) (RowIter, error) {
	limit := optInt(m.c.Options, "limit", 0)
	return func(yield func(*Row, error) bool) {
		for r, err := range in {
			if err != nil {
				yield(nil, err)
				return
			}
			v := r.Get(m.c.Field)
			if v.Kind() != Multi {
				if !yield(r, nil) {
					return
				}
				continue
			}
			for i, s := range v.Values() {
				if limit > 0 && i >= limit {
					break
				}
				out := r.Clone()
				out.Set(m.c.Field, StrValue(s))
				if !yield(out, nil) {
					return
				}
			}
		}
	}, nil
}

type rex struct{ c *spl.Rex }

func (x rex) Run(_ context.Context, in RowIter, _ *Env) (RowIter, error) {
	field := optStr(x.c.Options, "field", "_raw")
	if optStr(x.c.Options, "mode", "") == "sed" {
		sed, err := spl.ParseSed(x.c.Regex)
		if err != nil {
			return nil, spl.Errorf(x.c.Pos, "%v", err)
		}
		return exprStream(in, func(r *Row) (*Row, error) {
			v := r.Get(field)
			if v.IsNull() {
				return r, nil
			}
			r.Set(field, StrValue(sedReplace(sed, v.String())))
			return r, nil
		}), nil
	}
	re := regexp.MustCompile(x.c.Regex) // checked by the parser
	maxMatch := optInt(x.c.Options, "max_match", 1)
	names := re.SubexpNames()
	return streamFn(in, func(r *Row) (*Row, bool) {
		v := r.Get(field)
		if v.IsNull() {
			return r, true
		}
		n := maxMatch
		if n == 0 {
			n = -1
		}
		ms := re.FindAllStringSubmatch(v.String(), n)
		if len(ms) == 0 {
			return r, true
		}
		for i, name := range names {
			if name == "" {
				continue
			}
			var vals []string
			for _, m := range ms {
				vals = append(vals, m[i])
			}
			r.Set(name, MultiValue(vals))
		}
		return r, true
	}), nil
}

// sedReplace applies s/RE/REPL/FLAGS: the first match, the Nth, or all.
func sedReplace(sed *spl.Sed, s string) string {
	n := 1
	if sed.Nth > 0 {
		n = sed.Nth
	}
	i := 0
	return sed.Re.ReplaceAllStringFunc(s, func(m string) string {
		i++
		if !sed.Global && i != n {
			return m
		}
		out := sed.Re.ReplaceAllString(m, sed.Repl)
		if len(out) > maxValueLen {
			tooLong(len(out))
		}
		return out
	})
}

type sample struct{ c *spl.Sample }

func (s sample) Run(_ context.Context, in RowIter, env *Env) (RowIter, error) {
	seed := uint64(env.now().UnixNano())
	if v, ok := spl.OptionValue(s.c.Options, "seed"); ok {
		n, _ := strconv.ParseUint(v, 10, 64)
		seed = n
	}
	rng := rand.New(rand.NewPCG(seed, 0x5a3b1e))
	if v, ok := spl.OptionValue(s.c.Options, "ratio"); ok {
		ratio, _ := strconv.ParseFloat(v, 64)
		return streamFn(in, func(r *Row) (*Row, bool) {
			if rng.Float64() < ratio {
				return r, true
			}
			return nil, true
		}), nil
	}
	if p := optInt(s.c.Options, "partitions", 0); p > 0 {
		return streamFn(in, func(r *Row) (*Row, bool) {
			r.Set("partition_number", NumValue(float64(rng.IntN(p))))
			return r, true
		}), nil
	}
	count := optInt(s.c.Options, "count", 0)
	return func(yield func(*Row, error) bool) {
		// Reservoir sampling keeps count rows, in their input order.
		type kept struct {
			i int
			r *Row
		}
		var res []kept
		i := 0
		for r, err := range in {
			if err == nil && len(res) < count {
				err = env.mem().charge(rowSize(r))
			}
			if err != nil {
				yield(nil, err)
				return
			}
			switch {
			case len(res) < count:
				res = append(res, kept{i, r})
			default:
				if j := rng.IntN(i + 1); j < count {
					res[j] = kept{i, r}
				}
			}
			i++
		}
		slices.SortFunc(res, func(a, b kept) int { return a.i - b.i })
		for _, k := range res {
			if !yield(k.r, nil) {
				return
			}
		}
	}, nil
}
