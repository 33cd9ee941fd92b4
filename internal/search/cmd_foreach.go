package search

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/dockyard/dockyard/internal/spl"
)

type foreach struct {
	c     *spl.Foreach
	cache map[string][]Command // compiled body per field name
}

// Run applies the body to each row once per field matching the patterns,
// with <<FIELD>> the field's name, <<MATCHSTR>> what the first * matched
// and <<MATCHSEG1>>..<<MATCHSEG3>> what each * matched. The body's
// commands run over the one row; a row the body drops is dropped.
func (f foreach) Run(ctx context.Context, in RowIter, env *Env) (RowIter, error) {
	f.cache = map[string][]Command{}
	if mode, _ := spl.OptionValue(f.c.Options, "mode"); mode == "multivalue" || mode == "json_array" {
		return f.overValues(ctx, in, env, mode == "json_array"), nil
	}
	return exprStream(in, func(r *Row) (*Row, error) {
		names := r.Names()
		for _, pat := range f.c.Fields {
			for _, name := range names {
				if !wildcardMatch(pat, name, false) {
					continue
				}
				cmds, err := f.body(pat, name)
				if err != nil {
					return nil, err
				}
				if r, err = runOnRow(ctx, env, cmds, r); err != nil || r == nil {
					return nil, err
				}
			}
		}
		return r, nil
	}), nil
}

// overValues is mode=multivalue (json_array): the body runs over the row
// once per value of the one field (per element of the JSON array it
// holds), in order, with <<ITEM>> the value as text and <<FIELD>> the
// field's name. A row without the field passes unchanged.
func (f foreach) overValues(ctx context.Context, in RowIter, env *Env, jsonArray bool) RowIter {
	field := f.c.Fields[0]
	return exprStream(in, func(r *Row) (*Row, error) {
		v := r.Get(field)
		if v.IsNull() {
			return r, nil
		}
		items := v.Values()
		if jsonArray {
			var err error
			if items, err = jsonItems(v.String()); err != nil {
				return nil, spl.Errorf(f.c.Pos, "foreach mode=json_array: field %q: %v", field, err)
			}
		}
		for _, item := range items {
			cmds, err := f.compileBody(item, []string{"<<FIELD>>", field, "<<ITEM>>", item})
			if err != nil {
				return nil, err
			}
			if r, err = runOnRow(ctx, env, cmds, r); err != nil || r == nil {
				return nil, err
			}
		}
		return r, nil
	})
}

// jsonItems returns the elements of a JSON array as text: strings bare,
// other values as JSON.
func jsonItems(s string) ([]string, error) {
	var raw []json.RawMessage
	if err := json.Unmarshal([]byte(s), &raw); err != nil {
		return nil, fmt.Errorf("%q is not a JSON array: give foreach mode=json_array a field that holds one, such as [\"a\",1]", s)
	}
	out := make([]string, len(raw))
	for i, x := range raw {
		var str string
		if json.Unmarshal(x, &str) == nil {
			out[i] = str
		} else {
			out[i] = string(x)
		}
	}
	return out, nil
}

// runOnRow runs cmds over the one row r and returns the first row they
// give (nil when they drop it).
func runOnRow(ctx context.Context, env *Env, cmds []Command, r *Row) (*Row, error) {
	var it RowIter = FromRows([]*Row{r})
	var err error
	for _, c := range cmds {
		if it, err = c.Run(ctx, it, env); err != nil {
			return nil, err
		}
	}
	var out *Row
	for row, err := range it {
		if err != nil {
			return nil, err
		}
		if out == nil {
			out = row
		}
	}
	return out, nil
}

func (f foreach) body(pat, name string) ([]Command, error) {
	segs := wildSegments(pat, name)
	repl := []string{"<<FIELD>>", name, "<<ITEM>>", name}
	for i, ph := range []string{"<<MATCHSEG1>>", "<<MATCHSEG2>>", "<<MATCHSEG3>>"} {
		s := ""
		if i < len(segs) {
			s = segs[i]
		}
		repl = append(repl, ph, s)
		if i == 0 {
			repl = append(repl, "<<MATCHSTR>>", s)
		}
	}
	return f.compileBody(name, repl)
}

// compileBody compiles the body with the placeholders replaced (repl:
// placeholder, text, ...), cached by key (a field name, or an item).
func (f foreach) compileBody(key string, repl []string) ([]Command, error) {
	if cmds, ok := f.cache[key]; ok {
		return cmds, nil
	}
	src := strings.NewReplacer(repl...).Replace(f.c.Body)
	pl, err := spl.Parse("| " + strings.TrimLeft(strings.TrimSpace(src), "|"))
	if err != nil {
		return nil, spl.Errorf(f.c.BodyPos, "foreach body for %q: %v", key, err)
	}
	cmds, err := compileSub(pl, false)
	if err != nil {
		return nil, spl.Errorf(f.c.BodyPos, "foreach body for %q: %v", key, err)
	}
	if len(f.cache) < 10_000 {
		f.cache[key] = cmds
	}
	return cmds, nil
}

// wildSegments returns what each * of pat matched in name.
func wildSegments(pat, name string) []string {
	parts := strings.Split(pat, "*")
	if len(parts) < 2 {
		return nil
	}
	var segs []string
	s := name[len(parts[0]):]
	for i, p := range parts[1:] {
		var j int
		if i == len(parts)-2 {
			j = len(s) - len(p)
		} else {
			j = strings.Index(s, p)
		}
		if j < 0 {
			return segs
		}
		segs = append(segs, s[:j])
		s = s[j+len(p):]
	}
	return segs
}
