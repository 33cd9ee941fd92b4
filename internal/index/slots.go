package index

import (
	"context"
	"runtime"
	"time"
)

// searchBatch is how many matching events a search reads and prepares
// (full-text check, field extraction) while it holds a slot.
const searchBatch = 256

// searchSlice is the longest a search holds a slot at a stretch.
const searchSlice = 10 * time.Millisecond

// slots bounds the searches that read and prepare events at once to half
// the processors (at least one), so that however many searches run, the
// other half is left to everything else the server does. A search holds a
// slot only while it works on a batch in this package, never while the
// consumer of its events runs: a search nested in another's consumer (a
// subsearch, a join) cannot wait on a slot its outer search holds.
type slots chan struct{}

func newSlots() slots { return make(slots, max(1, runtime.GOMAXPROCS(0)/2)) }

// take waits for a slot; the func it returns gives it back.
func (s slots) take(ctx context.Context) (func(), error) {
	select {
	case s <- struct{}{}:
		return func() { <-s }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}
