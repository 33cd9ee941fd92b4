package search

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync/atomic"

	"github.com/dockyard/dockyard/internal/errdefs"
)

// budget is the memory one search may hold in rows and values that
// commands keep (sort, eventstats, timechart, stats groups and their kept
// values, dedup, tail, outputlookup, lookup tables, subsearch results and
// join tables). Charges are estimates and are never given back while the
// search runs, so the bound is conservative.
type budget struct {
	max  int64 // 0: unlimited
	used atomic.Int64
}

// charge adds n bytes; it fails once the total passes the limit.
func (b *budget) charge(n int64) error {
	if b == nil {
		return nil
	}
	u := b.used.Add(n)
	if b.max > 0 && u > b.max {
		return errdefs.Limitf("search stopped: it kept more than %s of rows and values in memory, the memory limit per search (search.max_memory); narrow the search before sort, stats, eventstats, timechart, dedup or join, or ask an admin to raise the limit", sizeString(b.max))
	}
	return nil
}

func sizeString(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", n>>30)
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// mem returns the search's memory budget.
func (e *Env) mem() *budget {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.budget == nil {
		e.budget = &budget{max: e.Limits.MaxMemory}
	}
	return e.budget
}

// rowSize estimates the bytes a kept row holds.
func rowSize(r *Row) int64 {
	n := int64(48 + 40*cap(r.Fields))
	for _, f := range r.Fields {
		n += int64(len(f.Name)) + valueSize(f.Value)
	}
	return n
}

func valueSize(v Value) int64 {
	switch v.Kind() {
	case Str:
		return int64(len(v.str))
	case Multi:
		n := int64(24 * len(*v.mv))
		for _, s := range *v.mv {
			n += int64(len(s))
		}
		return n
	}
	return 0
}

// keepRows collects a stream into memory, charging the budget.
func keepRows(in RowIter, b *budget) ([]*Row, error) {
	var rows []*Row
	for r, err := range in {
		if err == nil {
			err = b.charge(rowSize(r) + 8)
		}
		if err != nil {
			return nil, err
		}
		rows = append(rows, r)
	}
	return rows, nil
}

// openLookup opens a lookup by name; a name without ".csv" that is not
// found is tried again with it, so lookup definitions may be named without
// the extension.
func openLookup(ctx context.Context, env *Env, name string) (io.ReadCloser, string, error) {
	if env.Lookups == nil {
		return nil, name, errNoLookups
	}
	rc, err := env.Lookups.Open(ctx, env.App, name)
	if err != nil && errdefs.IsNotFound(err) && !strings.HasSuffix(strings.ToLower(name), ".csv") {
		if rc2, err2 := env.Lookups.Open(ctx, env.App, name+".csv"); err2 == nil {
			return rc2, name + ".csv", nil
		}
	}
	return rc, name, err
}
