package search

import (
	"context"
	"errors"
	"time"

	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/spl"
)

// Command is one compiled stage of a pipeline.
type Command interface {
	// Run returns the command's output stream given its input stream. It
	// does no work until the output is iterated (except to check
	// arguments).
	Run(ctx context.Context, in RowIter, env *Env) (RowIter, error)
}

// Info describes a finished search.
type Info struct {
	Rows     int      // rows delivered to the sink
	Fields   []string // every field seen, in first-seen order
	Messages []string // user-facing notes
}

// Result is a whole search's output, as Collect returns it.
type Result struct {
	Fields   []string
	Rows     []*Row
	Messages []string
}

// Compile parses src and compiles it into commands.
func Compile(src string) ([]Command, error) {
	pl, err := spl.Parse(src)
	if err != nil {
		return nil, err
	}
	return CompilePipeline(pl)
}

// CompilePipeline compiles a parsed pipeline. Only its first command may be
// a generating one, and it must be.
func CompilePipeline(pl *spl.Pipeline) ([]Command, error) {
	out := make([]Command, 0, len(pl.Commands))
	for i, c := range pl.Commands {
		gen := spl.Generating(c)
		if _, ok := c.(*spl.Search); ok && i == 0 {
			gen = true // "search index=main ..." reads events like an implicit search
		}
		if i == 0 && !gen {
			return nil, spl.Errorf(c.Position(), "a search must start with search terms or a generating command (makeresults, inputlookup, summary, listmodels, deletemodel), not %s", c.Name())
		}
		if i > 0 && gen {
			return nil, spl.Errorf(c.Position(), "%s generates results and must be the first command of the search", c.Name())
		}
		cmd, err := compileCommand(c, i == 0)
		if err != nil {
			return nil, err
		}
		if gen {
			cmd = limited{name: c.Name(), cmd: cmd}
		}
		out = append(out, cmd)
	}
	return out, nil
}

// Run parses, compiles and runs src, handing each result row to sink in
// order. It stops at the first error from a command or from sink. When
// env.Limits.MaxTime passes, the search stops with an errdefs.ErrLimit error
// naming the limit; when ctx is cancelled, with ctx's error.
func Run(ctx context.Context, src string, env *Env, sink func(*Row) error) (Info, error) {
	cmds, err := Compile(src)
	if err != nil {
		return Info{}, err
	}
	return RunCommands(ctx, cmds, env, sink)
}

// RunCommands runs compiled commands; see Run.
func RunCommands(ctx context.Context, cmds []Command, env *Env, sink func(*Row) error) (Info, error) {
	if d := env.Limits.MaxTime; d > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, d, timeLimitError(d))
		defer cancel()
	}
	start := time.Now()
	var it RowIter = Empty
	for _, c := range cmds {
		var err error
		if it, err = c.Run(ctx, it, env); err != nil {
			return Info{Messages: env.Messages()}, stopErr(ctx, err)
		}
	}
	var info Info
	seen := map[string]bool{}
	for r, err := range it {
		if err != nil {
			info.Messages = env.Messages()
			return info, stopErr(ctx, err)
		}
		if info.Rows%256 == 0 && ctx.Err() != nil {
			info.Messages = env.Messages()
			return info, stopErr(ctx, ctx.Err())
		}
		for _, f := range r.Fields {
			if !seen[f.Name] {
				seen[f.Name] = true
				info.Fields = append(info.Fields, f.Name)
			}
		}
		info.Rows++
		if err := sink(r); err != nil {
			info.Messages = env.Messages()
			return info, err
		}
	}
	if err := ctx.Err(); err != nil {
		return info, stopErr(ctx, err)
	}
	info.Messages = env.Messages()
	env.logger().Debug("search finished", "rows", info.Rows, "elapsed", time.Since(start))
	return info, nil
}

// Collect runs src and returns every row.
func Collect(ctx context.Context, src string, env *Env) (*Result, error) {
	var rows []*Row
	info, err := Run(ctx, src, env, func(r *Row) error { rows = append(rows, r); return nil })
	if err != nil {
		return nil, err
	}
	return &Result{Fields: info.Fields, Rows: rows, Messages: info.Messages}, nil
}

func timeLimitError(d time.Duration) error {
	return errdefs.Limitf("search stopped: it ran longer than the time limit of %s (search.max_time); narrow the search or ask an admin to raise the limit", d)
}

// stopErr turns a context error into the limit error that caused it.
func stopErr(ctx context.Context, err error) error {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		if cause := context.Cause(ctx); cause != nil && errdefs.IsLimit(cause) {
			return cause
		}
	}
	return err
}

// limited wraps a generating command: it enforces Limits.MaxRows and checks
// for cancellation as rows are produced.
type limited struct {
	name string
	cmd  Command
}

func (l limited) Run(ctx context.Context, in RowIter, env *Env) (RowIter, error) {
	it, err := l.cmd.Run(ctx, in, env)
	if err != nil {
		return nil, err
	}
	max := env.Limits.MaxRows
	return func(yield func(*Row, error) bool) {
		n := 0
		for r, err := range it {
			if err != nil {
				yield(nil, err)
				return
			}
			n++
			if max > 0 && n > max {
				yield(nil, rowLimitError(l.name, max))
				return
			}
			if n%1024 == 0 && ctx.Err() != nil {
				yield(nil, stopErr(ctx, context.Cause(ctx)))
				return
			}
			if !yield(r, nil) {
				return
			}
		}
	}, nil
}

func rowLimitError(cmd string, max int) error {
	return errdefs.Limitf("search stopped: %s produced more than %d rows, the row limit (search.max_rows); narrow the search or ask an admin to raise the limit", cmd, max)
}
