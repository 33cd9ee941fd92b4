package search

import (
	"context"

	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/spl"
)

// compileCommand turns one AST command into a runnable Command.
func compileCommand(c spl.Command, first bool) (Command, error) {
	switch c := c.(type) {
	case *spl.Search:
		if first {
			return compileEventSearch(c)
		}
		return compileFilter(c)
	case *spl.Makeresults:
		return makeresults{c}, nil
	case *spl.Inputlookup:
		return inputlookup{c}, nil
	case *spl.Outputlookup:
		return outputlookup{c}, nil
	case *spl.Eval:
		return compileEval(c)
	case *spl.Where:
		x := &exprEnv{}
		f, err := compileExpr(c.Expr, x)
		if err != nil {
			return nil, err
		}
		return where{f: f, x: x}, nil
	case *spl.Table:
		return project{fields: c.Fields}, nil
	case *spl.Fields:
		if c.Remove {
			return removeFields{fields: c.Fields}, nil
		}
		return project{fields: c.Fields}, nil
	case *spl.Rename:
		return rename{c}, nil
	case *spl.Head:
		if c.Tail {
			return tail{n: c.N}, nil
		}
		return head{n: c.N}, nil
	case *spl.Sort:
		return sortCmd{c}, nil
	case *spl.Dedup:
		return dedup{c}, nil
	case *spl.Stats:
		switch {
		case c.Streaming:
			return streamstats{c}, nil
		case c.Event:
			return eventstats{c}, nil
		}
		return stats{c}, nil
	case *spl.Timechart:
		return compileTimechart(c)
	case *spl.Chart:
		return compileChart(c)
	case *spl.Bin:
		return compileBin(c)
	case *spl.Fillnull:
		return fillnull{c}, nil
	case *spl.Makemv:
		return makemv{c: c}, nil
	case *spl.Spath:
		return spathCmd{c}, nil
	case *spl.Mvexpand:
		return mvexpand{c}, nil
	case *spl.Rex:
		return rex{c}, nil
	case *spl.Top:
		return top{c}, nil
	case *spl.Sample:
		return sample{c}, nil
	case *spl.Convert:
		return convert{c}, nil
	case *spl.Lookup:
		return lookup{c}, nil
	case *spl.Append:
		return compileAppend(c)
	case *spl.Join:
		return compileJoin(c)
	case *spl.Foreach:
		if _, err := compileSub(c.Sub, false); err != nil {
			return nil, err
		}
		return foreach{c: c}, nil
	case *spl.Fit, *spl.Apply, *spl.Summary, *spl.Listmodels, *spl.Deletemodel:
		return mlCommand{c}, nil
	}
	return nil, spl.Errorf(c.Position(), "command %s is not supported here", c.Name())
}

// streamFn builds a streaming command from a per-row function: it returns
// the row to pass on (or nil to drop it), and false to stop the stream.
func streamFn(in RowIter, f func(r *Row) (*Row, bool)) RowIter {
	return func(yield func(*Row, error) bool) {
		for r, err := range in {
			if err != nil {
				yield(nil, err)
				return
			}
			out, more := f(r)
			if out != nil && !yield(out, nil) {
				return
			}
			if !more {
				return
			}
		}
	}
}

// mlCommand hands a model command to env.ML.
type mlCommand struct{ c spl.Command }

func (m mlCommand) Run(ctx context.Context, in RowIter, env *Env) (RowIter, error) {
	if env.ML == nil {
		return nil, errdefs.Unavailable(m.c.Name() + " needs the container service, which is not available in this server: start the server with a container runtime configured")
	}
	switch c := m.c.(type) {
	case *spl.Fit:
		return env.ML.Fit(ctx, c, in, env)
	case *spl.Apply:
		return env.ML.Apply(ctx, c, in, env)
	case *spl.Summary:
		return env.ML.Summary(ctx, c, in, env)
	case *spl.Listmodels:
		return env.ML.ListModels(ctx, c, in, env)
	case *spl.Deletemodel:
		return env.ML.DeleteModel(ctx, c, in, env)
	}
	return nil, spl.Errorf(m.c.Position(), "command %s is not supported", m.c.Name())
}
