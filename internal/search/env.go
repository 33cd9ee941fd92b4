package search

import (
	"context"
	"fmt"
	"io"
	"iter"
	"log/slog"
	"sync"
	"time"

	"github.com/dockyard/dockyard/internal/events"
	"github.com/dockyard/dockyard/internal/spl"
)

// Limits bound one search. An admin configures them (search.max_rows,
// search.max_time); zero means unlimited.
type Limits struct {
	// MaxRows caps the rows any one generating command (makeresults,
	// inputlookup, an index search, a model command) may produce.
	MaxRows int
	// MaxTime caps the wall-clock time of the whole search.
	MaxTime time.Duration
	// MaxMemory caps the bytes of rows and values the search's commands
	// keep in memory (search.max_memory).
	MaxMemory int64
	// SubsearchMaxRows and SubsearchMaxTime cap each subsearch of append,
	// join and appendpipe (search.subsearch_max_rows,
	// search.subsearch_max_time); maxout= and maxtime= may lower them.
	SubsearchMaxRows int
	SubsearchMaxTime time.Duration
}

// Lookups reads and writes CSV lookup tables for the caller in ctx. Open of
// a lookup the caller may not read fails exactly like a missing one.
type Lookups interface {
	Open(ctx context.Context, app, name string) (io.ReadCloser, error)
	Write(ctx context.Context, app, name string, r io.Reader) error
}

// Events reads events from the event indexes the caller in ctx may search.
type Events interface {
	Events(ctx context.Context, q events.Query) iter.Seq2[events.Event, error]
}

// ML runs the model commands. The implementation talks to the container
// service and the model registry; in is the rows flowing into the command
// (Empty for the generating ones).
type ML interface {
	Fit(ctx context.Context, cmd *spl.Fit, in RowIter, env *Env) (RowIter, error)
	Apply(ctx context.Context, cmd *spl.Apply, in RowIter, env *Env) (RowIter, error)
	Summary(ctx context.Context, cmd *spl.Summary, in RowIter, env *Env) (RowIter, error)
	ListModels(ctx context.Context, cmd *spl.Listmodels, in RowIter, env *Env) (RowIter, error)
	DeleteModel(ctx context.Context, cmd *spl.Deletemodel, in RowIter, env *Env) (RowIter, error)
}

// Env is what a search runs with. The caller's identity travels in ctx
// (access.FromContext). Use one Env per search: it collects the messages.
type Env struct {
	App     string
	Limits  Limits
	Now     func() time.Time // nil: time.Now
	Lookups Lookups          // nil: inputlookup and outputlookup fail
	Events  Events           // nil: index searches fail
	ML      ML               // nil: the model commands fail
	Logger  *slog.Logger     // nil: discard
	// DefaultIndexes are searched by a leading search that names no index=.
	// Empty: such a search is an error asking for index=.
	DefaultIndexes []string

	mu       sync.Mutex
	messages []string
	budget   *budget
}

// Message records a user-facing note about the search, such as "dropped 3
// rows with missing values".
func (e *Env) Message(format string, args ...any) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.messages = append(e.messages, fmt.Sprintf(format, args...))
}

// Messages returns the notes recorded so far.
func (e *Env) Messages() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.messages...)
}

func (e *Env) now() time.Time {
	if e.Now != nil {
		return e.Now()
	}
	return time.Now()
}

func (e *Env) logger() *slog.Logger {
	if e.Logger != nil {
		return e.Logger
	}
	return slog.New(slog.DiscardHandler)
}
