package search

import (
	"context"
	"strconv"
	"time"

	"github.com/dockyard/dockyard/internal/spl"
)

// subEnv returns the environment a subsearch runs in: the caller's, with
// its own messages and the same memory budget.
func (e *Env) subEnv() *Env {
	return &Env{App: e.App, Limits: e.Limits, Now: e.Now, Lookups: e.Lookups, Events: e.Events, ML: e.ML,
		Logger: e.Logger, DefaultIndexes: e.DefaultIndexes, budget: e.mem()}
}

// compileSub compiles a subsearch's pipeline; generating says whether it
// must start with a generating command (append, join) or must not
// (appendpipe, foreach, which run over the outer rows).
func compileSub(pl *spl.Pipeline, generating bool) ([]Command, error) {
	if generating {
		return CompilePipeline(pl)
	}
	out := make([]Command, 0, len(pl.Commands))
	for _, c := range pl.Commands {
		if spl.Generating(c) {
			return nil, spl.Errorf(c.Position(), "%s generates results and cannot run over the rows of the outer search here", c.Name())
		}
		cmd, err := compileCommand(c, false)
		if err != nil {
			return nil, err
		}
		out = append(out, cmd)
	}
	return out, nil
}

// runSub runs a subsearch to the end and returns its rows: at most
// search.subsearch_max_rows (or maxout=) of them, within
// search.subsearch_max_time (or maxtime=); past either it keeps what it
// has and says so in a message naming the setting, as Splunk does.
func runSub(ctx context.Context, env *Env, name string, opts []spl.Option, cmds []Command, in RowIter) ([]*Row, error) {
	maxRows, maxTime := env.Limits.SubsearchMaxRows, env.Limits.SubsearchMaxTime
	rowsKey, timeKey := "search.subsearch_max_rows", "search.subsearch_max_time"
	if n := optInt(opts, "maxout", -1); n >= 0 && (maxRows <= 0 || n < maxRows) {
		maxRows, rowsKey = n, "maxout="
	}
	if v, ok := spl.OptionValue(opts, "maxtime"); ok {
		if n, err := strconv.Atoi(v); err == nil && n >= 0 && (maxTime <= 0 || time.Duration(n)*time.Second < maxTime) {
			maxTime, timeKey = time.Duration(n)*time.Second, "maxtime="
		}
	}
	sctx := ctx
	if maxTime > 0 {
		var cancel context.CancelFunc
		sctx, cancel = context.WithTimeout(ctx, maxTime)
		defer cancel()
	}
	sub := env.subEnv()
	defer func() {
		for _, m := range sub.Messages() {
			env.Message("%s: %s", name, m)
		}
	}()
	it := in
	for _, c := range cmds {
		var err error
		if it, err = c.Run(sctx, it, sub); err != nil {
			return nil, err
		}
	}
	var rows []*Row
	mem := env.mem()
	timedOut := func() bool {
		if sctx.Err() != nil && ctx.Err() == nil {
			env.Message("%s: the subsearch ran longer than %s (%s) and was stopped; its first %d rows are used", name, maxTime, timeKey, len(rows))
			return true
		}
		return false
	}
	for r, err := range it {
		if err != nil {
			if timedOut() {
				return rows, nil
			}
			return nil, err
		}
		if maxRows > 0 && len(rows) >= maxRows || maxRows == 0 && rowsKey == "maxout=" {
			env.Message("%s: the subsearch returned more than %d rows (%s); only the first %d are used", name, maxRows, rowsKey, maxRows)
			return rows, nil
		}
		if len(rows)%256 == 0 && timedOut() {
			return rows, nil
		}
		if err := mem.charge(rowSize(r) + 8); err != nil {
			return nil, err
		}
		rows = append(rows, r)
	}
	if timedOut() {
		return rows, nil
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return rows, nil
}

type appendCmd struct {
	c    *spl.Append
	cmds []Command
}

func compileAppend(c *spl.Append) (Command, error) {
	cmds, err := compileSub(c.Sub.Pipeline, !c.Pipe)
	if err != nil {
		return nil, err
	}
	return appendCmd{c: c, cmds: cmds}, nil
}

func (a appendCmd) Run(ctx context.Context, in RowIter, env *Env) (RowIter, error) {
	name := a.c.Name()
	if !a.c.Pipe {
		// append streams the outer rows, then runs the subsearch.
		return func(yield func(*Row, error) bool) {
			for r, err := range in {
				if !yield(r, err) || err != nil {
					return
				}
			}
			rows, err := runSub(ctx, env, name, a.c.Options, a.cmds, Empty)
			if err != nil {
				yield(nil, err)
				return
			}
			for _, r := range rows {
				if !yield(r, nil) {
					return
				}
			}
		}, nil
	}
	// appendpipe passes the rows on and keeps copies for its subpipeline,
	// which runs over them once they are all through.
	return func(yield func(*Row, error) bool) {
		var copies []*Row
		mem := env.mem()
		for r, err := range in {
			if err == nil {
				err = mem.charge(rowSize(r))
			}
			if err != nil {
				yield(nil, err)
				return
			}
			copies = append(copies, r.Clone())
			if !yield(r, nil) {
				return
			}
		}
		rows, err := runSub(ctx, env, name, a.c.Options, a.cmds, FromRows(copies))
		if err != nil {
			yield(nil, err)
			return
		}
		for _, r := range rows {
			if !yield(r, nil) {
				return
			}
		}
	}, nil
}

type join struct {
	c    *spl.Join
	cmds []Command
}

func compileJoin(c *spl.Join) (Command, error) {
	cmds, err := compileSub(c.Sub.Pipeline, true)
	if err != nil {
		return nil, err
	}
	return join{c: c, cmds: cmds}, nil
}

func (j join) Run(ctx context.Context, in RowIter, env *Env) (RowIter, error) {
	typ := optStr(j.c.Options, "type", "inner")
	max := optInt(j.c.Options, "max", 1)
	overwrite := optBool(j.c.Options, "overwrite", true)
	return func(yield func(*Row, error) bool) {
		rows, err := runSub(ctx, env, "join", j.c.Options, j.cmds, Empty)
		if err != nil {
			yield(nil, err)
			return
		}
		table := map[string][]*Row{}
		var buf []byte
		for _, r := range rows {
			var ok bool
			if buf, ok = groupKey(j.c.Fields, r, buf); ok {
				table[string(buf)] = append(table[string(buf)], r)
			}
		}
		for r, err := range in {
			if err != nil {
				yield(nil, err)
				return
			}
			var ok bool
			buf, ok = groupKey(j.c.Fields, r, buf)
			matches := table[string(buf)]
			if !ok || len(matches) == 0 {
				if typ != "inner" && !yield(r, nil) {
					return
				}
				continue
			}
			if max > 0 && len(matches) > max {
				matches = matches[:max]
			}
			for i, m := range matches {
				out := r
				if i < len(matches)-1 {
					out = r.Clone()
				}
				for _, f := range m.Fields {
					if overwrite || out.Get(f.Name).IsNull() {
						out.Set(f.Name, f.Value)
					}
				}
				if !yield(out, nil) {
					return
				}
			}
		}
	}, nil
}
