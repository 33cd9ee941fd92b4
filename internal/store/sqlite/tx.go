package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"sync/atomic"

	"github.com/dockyard/dockyard/internal/store"
)

// querier is what *sql.DB and *sql.Tx share: every method runs its
// statements on the transaction the context carries, if any (q).
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	PrepareContext(ctx context.Context, query string) (*sql.Stmt, error)
}

// txOf returns the transaction of this store that ctx carries, or nil.
func (s *DB) txOf(ctx context.Context) *sql.Tx {
	tx, _ := store.TxFrom(ctx).Handle(s).(*sql.Tx)
	return tx
}

// q returns the transaction ctx carries, or the pool.
func (s *DB) q(ctx context.Context) querier {
	if tx := s.txOf(ctx); tx != nil {
		return tx
	}
	return s.db
}

var savepoints atomic.Int64

// InTx implements store.Transactor: one durable BEGIN IMMEDIATE
// transaction, carried in the context; joined when ctx already has one.
func (s *DB) InTx(ctx context.Context, fn func(ctx context.Context) error) error {
	if s.txOf(ctx) != nil {
		return fn(ctx)
	}
	var t *store.Tx
	err := s.durableTx(ctx, func(tx *sql.Tx) error {
		t = store.NewTx(s, tx)
		if err := fn(store.WithTx(ctx, t)); err != nil {
			return err
		}
		if err := t.Err(); err != nil {
			return fmt.Errorf("%w: %w", store.ErrTxFailed, err)
		}
		return nil
	})
	if t != nil {
		t.Finish(store.WithoutTx(ctx), err == nil)
	}
	return err
}

// tx runs fn in a transaction of its own (IMMEDIATE, through the DSN's
// _txlock), or, when ctx carries one, in a savepoint of it: a method that
// fails inside a caller's transaction undoes only its own statements, so
// the caller may handle the error (a Conflict) and go on.
func (s *DB) tx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	if outer := s.txOf(ctx); outer != nil {
		name := fmt.Sprintf("sp%d", savepoints.Add(1))
		if _, err := outer.ExecContext(ctx, "SAVEPOINT "+name); err != nil {
			return fmt.Errorf("sqlite store: savepoint: %w", err)
		}
		if err := fn(outer); err != nil {
			outer.ExecContext(context.WithoutCancel(ctx), "ROLLBACK TO "+name)
			outer.ExecContext(context.WithoutCancel(ctx), "RELEASE "+name)
			return err
		}
		if _, err := outer.ExecContext(ctx, "RELEASE "+name); err != nil {
			return fmt.Errorf("sqlite store: release savepoint: %w", err)
		}
		return nil
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite store: begin: %w", err)
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite store: commit: %w", err)
	}
	return nil
}
