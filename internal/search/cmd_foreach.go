package search

import (
	"context"
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
				var it RowIter = FromRows([]*Row{r})
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
				if out == nil {
					return nil, nil
				}
				r = out
			}
		}
		return r, nil
	}), nil
}

func (f foreach) body(pat, name string) ([]Command, error) {
	if cmds, ok := f.cache[name]; ok {
		return cmds, nil
	}
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
	src := strings.NewReplacer(repl...).Replace(f.c.Body)
	pl, err := spl.Parse("| " + strings.TrimLeft(strings.TrimSpace(src), "|"))
	if err != nil {
		return nil, spl.Errorf(f.c.BodyPos, "foreach body for field %q: %v", name, err)
	}
	cmds, err := compileSub(pl, false)
	if err != nil {
		return nil, spl.Errorf(f.c.BodyPos, "foreach body for field %q: %v", name, err)
	}
	if len(f.cache) < 10_000 {
		f.cache[name] = cmds
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
