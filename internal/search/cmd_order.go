package search

import (
	"context"
	"slices"
	"strings"

	"github.com/dockyard/dockyard/internal/spl"
)

// tail keeps the last n rows and, as in Splunk, returns them last first.
type tail struct{ n int }

func (t tail) Run(_ context.Context, in RowIter, env *Env) (RowIter, error) {
	mem := env.mem()
	return func(yield func(*Row, error) bool) {
		if t.n <= 0 {
			for _, err := range in {
				if err != nil {
					yield(nil, err)
					return
				}
			}
			return
		}
		ring := make([]*Row, 0, min(t.n, 1024))
		next := 0
		for r, err := range in {
			if err != nil {
				yield(nil, err)
				return
			}
			if err := mem.charge(rowSize(r)); err != nil {
				yield(nil, err)
				return
			}
			if len(ring) < t.n {
				ring = append(ring, r)
				continue
			}
			ring[next] = r
			next = (next + 1) % t.n
		}
		// ring holds the last rows; the newest is just before next.
		for i := 0; i < len(ring); i++ {
			j := (next - 1 - i + 2*len(ring)) % len(ring)
			if len(ring) < t.n {
				j = len(ring) - 1 - i
			}
			if !yield(ring[j], nil) {
				return
			}
		}
	}, nil
}

type sortCmd struct{ c *spl.Sort }

func (s sortCmd) Run(_ context.Context, in RowIter, env *Env) (RowIter, error) {
	return func(yield func(*Row, error) bool) {
		rows, err := keepRows(in, env.mem())
		if err != nil {
			yield(nil, err)
			return
		}
		slices.SortStableFunc(rows, func(a, b *Row) int {
			for _, k := range s.c.Keys {
				c := Compare(a.Get(k.Field), b.Get(k.Field))
				if k.Desc {
					c = -c
				}
				if c != 0 {
					return c
				}
			}
			return 0
		})
		if s.c.Limit > 0 && len(rows) > s.c.Limit {
			rows = rows[:s.c.Limit]
		}
		for _, r := range rows {
			if !yield(r, nil) {
				return
			}
		}
	}, nil
}

type dedup struct{ c *spl.Dedup }

func (d dedup) Run(_ context.Context, in RowIter, env *Env) (RowIter, error) {
	mem := env.mem()
	return func(yield func(*Row, error) bool) {
		seen := map[string]int{}
		prev, prevN := "", 0
		var b strings.Builder
		for r, err := range in {
			if err != nil {
				yield(nil, err)
				return
			}
			b.Reset()
			missing := false
			for _, f := range d.c.Fields {
				v := r.Get(f)
				if v.IsNull() {
					missing = true
				}
				b.WriteString(v.String())
				b.WriteByte(0)
			}
			if missing {
				if d.c.KeepEmpty && !yield(r, nil) {
					return
				}
				continue
			}
			key := b.String()
			if d.c.Consecutive {
				if key == prev {
					prevN++
				} else {
					prev, prevN = key, 1
				}
				if prevN > d.c.N {
					continue
				}
			} else {
				if _, ok := seen[key]; !ok {
					if err := mem.charge(int64(len(key) + 48)); err != nil {
						yield(nil, err)
						return
					}
				}
				seen[key]++
				if seen[key] > d.c.N {
					continue
				}
			}
			if !yield(r, nil) {
				return
			}
		}
	}, nil
}
