package ml

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/dockyard/dockyard/internal/agent"
	"github.com/dockyard/dockyard/internal/containers"
	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/search"
)

// input is the rows of a command: the ones peeked at first, then the rest.
type input struct {
	peeked []*search.Row
	next   func() (*search.Row, error, bool)
}

// peek reads up to peekRows rows.
func peek(next func() (*search.Row, error, bool)) (*input, error) {
	in := &input{next: next}
	for len(in.peeked) < peekRows {
		r, err, ok := next()
		if !ok {
			break
		}
		if err != nil {
			return nil, err
		}
		in.peeked = append(in.peeked, r)
	}
	return in, nil
}

func (in *input) rows(yield func(*search.Row, error) bool) {
	for len(in.peeked) > 0 {
		r := in.peeked[0]
		in.peeked[0] = nil
		in.peeked = in.peeked[1:]
		if !yield(r, nil) {
			return
		}
	}
	for {
		r, err, ok := in.next()
		if !ok || !yield(r, err) || err != nil {
			return
		}
	}
}

// job is one streamed fit or apply in a container.
type job struct {
	op   string // fit or apply
	h    *containers.Handle
	code code // the notebook version it runs (pinned in the container)
	meta json.RawMessage
	cols columns
	in   *input
	env  *search.Env
	seed bool // the container speaks only the seed's API: runSeed
}

// jobResult is a finished job: the done frame, what was sent, and the
// spooled rows and results to merge. remove deletes its files.
type jobResult struct {
	done     agent.Frame
	stats    feedStats
	sp       *spool
	results  string
	duration time.Duration
}

func (r *jobResult) remove() {
	if r.sp != nil {
		r.sp.remove()
	}
	if r.results != "" {
		os.Remove(r.results)
	}
}

var errJobEnded = errors.New("the container's answer ended before all rows were sent")

// run streams the job's rows to the container's agent while spooling them,
// writes the result chunks to a file, and forwards the notebook's output
// as search messages (capped). A notebook's failure is an error carrying
// its traceback.
func (s *Service) run(ctx context.Context, j *job) (_ *jobResult, err error) {
	if j.seed {
		return s.runSeed(ctx, j)
	}
	sp, err := newSpool(s.o.TempDir)
	if err != nil {
		return nil, err
	}
	res := &jobResult{sp: sp}
	defer func() {
		if err != nil {
			res.remove()
		}
	}()
	resf, err := os.CreateTemp(s.o.TempDir, "dockyard-results-*.csv")
	if err != nil {
		return nil, fmt.Errorf("results file: %w", err)
	}
	res.results = resf.Name()
	defer resf.Close()

	pr, pw := io.Pipe()
	var stats feedStats
	fed := make(chan error, 1)
	go func() {
		st, err := feed(pw, j.in.rows, j.cols.Names(), sp)
		stats = st
		pw.CloseWithError(err)
		fed <- err
	}()
	bw := bufio.NewWriterSize(resf, 64<<10)
	var werr error
	logs := 0
	name := containerName(j.h)
	onFrame := func(f agent.Frame) {
		switch f.Type {
		case "results":
			if werr == nil {
				_, werr = bw.WriteString(f.CSV)
			}
		case "log":
			logs++
			if logs <= maxLogMessages {
				j.env.Message("%s %s: %s", j.op, j.code.name, f.Line)
			}
		case "progress":
			if f.Step != "" {
				s.o.Log.DebugContext(ctx, "notebook step", "op", j.op, "notebook", j.code.name, "container", name, "step", f.Step)
			}
		}
	}
	start := s.o.Now()
	ag := j.h.Agent()
	var done agent.Frame
	if j.op == "fit" {
		done, err = ag.FitStreamPinned(ctx, j.code.sha(), j.meta, pr, onFrame)
	} else {
		done, err = ag.ApplyStreamPinned(ctx, j.code.sha(), j.meta, pr, onFrame)
	}
	pr.CloseWithError(errJobEnded)
	ferr := <-fed
	res.duration = s.o.Now().Sub(start)
	res.stats = stats
	if ferr != nil && !errors.Is(ferr, errJobEnded) {
		return nil, ferr
	}
	if err != nil {
		return nil, fmt.Errorf("%s in container %s: %w", j.op, name, err)
	}
	if logs > maxLogMessages {
		j.env.Message("%s %s: %d more lines of notebook output are in the container's log: dockyard containers logs %s", j.op, j.code.name, logs-maxLogMessages, name)
	}
	if werr == nil {
		werr = bw.Flush()
	}
	if werr != nil {
		return nil, fmt.Errorf("%s: keeping the results: %w", j.op, werr)
	}
	res.done = done
	switch done.Status {
	case "success", "staged":
	case "error":
		if stats.Sent == 0 && stats.Total > 0 {
			return nil, errdefs.Invalidf("%s: none of the %d rows has a value in every field sent (%s), so the notebook got no data: %s",
				j.op, stats.Total, list(j.cols.Names()), done.Message)
		}
		return nil, notebookError(j.op, j.code.name, name, done.Message)
	default:
		return nil, errdefs.Unavailablef("%s in container %s: the agent answered status %q: %s", j.op, name, done.Status, done.Message)
	}
	return res, nil
}
