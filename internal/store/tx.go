package store

import (
	"context"
	"errors"
	"sync"
)

// Transactor runs a group of store calls as one transaction.
//
// InTx runs fn with a context that carries the transaction: every method
// of the same store called with that context (or one derived from it)
// runs inside it, and the audit log's append joins it, so a change and
// its audit event commit together or not at all. The transaction is
// serialised (SQLite: BEGIN IMMEDIATE; one writer at a time) and durable
// on commit. It commits when fn returns nil and nothing marked it failed
// (Fail), and rolls back otherwise, returning fn's error or the failure.
// Called with a context already in a transaction of this store, InTx joins
// it (fn runs in the outer transaction; only the outermost commits).
//
// Within a transaction, use the context from one goroutine at a time, and
// do no slow work (blob uploads, container calls): the transaction holds
// the store's write lock until it ends.
type Transactor interface {
	InTx(ctx context.Context, fn func(ctx context.Context) error) error
}

// Tx is the state of one transaction carried in a context. Store
// implementations create it (NewTx) and keep their own handle in it.
type Tx struct {
	owner  any
	handle any

	mu     sync.Mutex
	failed error
	commit []func()
	end    []func(context.Context)
}

type txKey struct{}

// NewTx returns the state of a transaction of owner (the store) whose
// implementation handle is handle (for SQLite, the *sql.Tx).
func NewTx(owner, handle any) *Tx { return &Tx{owner: owner, handle: handle} }

// WithTx returns ctx carrying t.
func WithTx(ctx context.Context, t *Tx) context.Context { return context.WithValue(ctx, txKey{}, t) }

// TxFrom returns the transaction ctx carries, or nil.
func TxFrom(ctx context.Context) *Tx {
	t, _ := ctx.Value(txKey{}).(*Tx)
	return t
}

// WithoutTx returns ctx without its transaction (values and deadline kept).
func WithoutTx(ctx context.Context) context.Context {
	return context.WithValue(ctx, txKey{}, (*Tx)(nil))
}

// Handle returns the implementation handle when the transaction belongs
// to owner, else nil.
func (t *Tx) Handle(owner any) any {
	if t == nil || t.owner != owner {
		return nil
	}
	return t.handle
}

// ErrTxFailed is wrapped by Fail's error when fn returned nil anyway.
var ErrTxFailed = errors.New("the transaction was marked failed")

// Fail marks the transaction in ctx failed with err: it rolls back and
// InTx returns err even if the code in between ignored it (an audit event
// that could not be written, recorded by code that only logs). Without a
// transaction in ctx it does nothing.
func Fail(ctx context.Context, err error) {
	t := TxFrom(ctx)
	if t == nil || err == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.failed == nil {
		t.failed = err
	}
}

// Err returns the failure Fail recorded, or nil.
func (t *Tx) Err() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.failed
}

// AfterCommit runs fn once the transaction in ctx has committed (never if
// it rolls back), or at once when ctx carries none.
func AfterCommit(ctx context.Context, fn func()) {
	t := TxFrom(ctx)
	if t == nil {
		fn()
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.commit = append(t.commit, fn)
}

// AfterTx runs fn once the transaction in ctx has ended, committed or
// rolled back, with a context that carries no transaction; at once when ctx
// carries none. It is for what must be kept whatever happens to the change,
// such as the audit event of a refusal.
func AfterTx(ctx context.Context, fn func(ctx context.Context)) {
	t := TxFrom(ctx)
	if t == nil {
		fn(ctx)
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.end = append(t.end, fn)
}

// Finish runs the hooks of a transaction that has ended (implementations
// call it once, after commit or rollback) with ctx, the context without it.
func (t *Tx) Finish(ctx context.Context, committed bool) {
	t.mu.Lock()
	commit, end := t.commit, t.end
	t.commit, t.end = nil, nil
	t.mu.Unlock()
	if committed {
		for _, fn := range commit {
			fn()
		}
	}
	for _, fn := range end {
		fn(ctx)
	}
}

// Run is Transactor.InTx for a function with a result.
func Run[T any](ctx context.Context, t Transactor, fn func(ctx context.Context) (T, error)) (T, error) {
	var out T
	err := t.InTx(ctx, func(ctx context.Context) error {
		var err error
		out, err = fn(ctx)
		return err
	})
	if err != nil {
		var zero T
		return zero, err
	}
	return out, nil
}
