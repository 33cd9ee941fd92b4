package audit_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/dockyard/dockyard/internal/audit"
	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/store"
)

// An event recorded inside a store transaction commits with it or not at
// all, and a rolled back event leaves no hole and no fork in the chain.
func TestRecordJoinsTransaction(t *testing.T) {
	f := open(t)
	ctx := context.Background()
	f.record(t, 2, 0)
	boom := errors.New("the change failed")
	err := f.db.InTx(ctx, func(ctx context.Context) error {
		if err := f.db.PutSetting(ctx, "changed", "yes"); err != nil {
			return err
		}
		if err := f.log.Record(ctx, audit.Event{User: "alice", Action: "thing.change", Result: audit.ResultSuccess}); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("InTx = %v", err)
	}
	if _, err := f.db.GetSetting(ctx, "changed"); !errdefs.IsNotFound(err) {
		t.Fatalf("the change committed: %v", err)
	}
	if h, err := f.db.AuditHead(ctx); err != nil || h.Seq != 2 {
		t.Fatalf("chain head after rollback = %d, %v; want 2", h.Seq, err)
	}
	// Committed: both.
	if err := f.db.InTx(ctx, func(ctx context.Context) error {
		if err := f.db.PutSetting(ctx, "changed", "yes"); err != nil {
			return err
		}
		return f.log.Record(ctx, audit.Event{User: "alice", Action: "thing.change", Result: audit.ResultSuccess})
	}); err != nil {
		t.Fatal(err)
	}
	if h, err := f.db.AuditHead(ctx); err != nil || h.Seq != 3 {
		t.Fatalf("chain head after commit = %d, %v; want 3", h.Seq, err)
	}
	// Concurrent transactions with events: one chain, no fork.
	var wg sync.WaitGroup
	for g := 0; g < 6; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 4; i++ {
				err := f.db.InTx(ctx, func(ctx context.Context) error {
					if err := f.log.Record(ctx, audit.Event{User: "u", Action: "x", Result: audit.ResultSuccess}); err != nil {
						return err
					}
					if i%2 == 1 {
						return boom // half roll back
					}
					return nil
				})
				if err != nil && !errors.Is(err, boom) {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	if _, err := f.log.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	if res, err := f.log.Verify(ctx); err != nil || res.Events != 3+12 {
		t.Fatalf("Verify = %+v, %v; want 15 events", res, err)
	}
}

// An event that cannot be written fails the transaction it was recorded
// in, even when the code that recorded it ignores the error.
func TestRecordFailureFailsTransaction(t *testing.T) {
	f := open(t)
	ctx := context.Background()
	f.exec(t, `CREATE TRIGGER refuse BEFORE INSERT ON audit_chain BEGIN SELECT RAISE(ABORT, 'disk full'); END`)
	err := f.db.InTx(ctx, func(ctx context.Context) error {
		if err := f.db.PutSetting(ctx, "changed", "yes"); err != nil {
			return err
		}
		_ = f.log.Record(ctx, audit.Event{User: "alice", Action: "thing.change", Result: audit.ResultSuccess})
		return nil
	})
	if !errors.Is(err, store.ErrTxFailed) {
		t.Fatalf("InTx = %v, want the audit failure", err)
	}
	if _, err := f.db.GetSetting(ctx, "changed"); !errdefs.IsNotFound(err) {
		t.Fatalf("the change committed without its audit event: %v", err)
	}
}
