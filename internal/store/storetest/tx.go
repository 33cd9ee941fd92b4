package storetest

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/store"
)

func testTx(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open(t)
	model := func(name string) store.Model {
		return store.Model{Name: name, App: "search", Owner: "alice", Sharing: "app"}
	}
	setting := func(key string) string {
		t.Helper()
		v, err := s.GetSetting(ctx, key)
		if errdefs.IsNotFound(err) {
			return "<none>"
		}
		if err != nil {
			t.Fatal(err)
		}
		return v
	}

	t.Run("commit", func(t *testing.T) {
		var committed, ended bool
		err := s.InTx(ctx, func(ctx context.Context) error {
			if store.TxFrom(ctx) == nil {
				t.Fatal("InTx: the context carries no transaction")
			}
			if err := s.PutSetting(ctx, "c", "1"); err != nil {
				return err
			}
			if v, err := s.GetSetting(ctx, "c"); err != nil || v != "1" {
				t.Errorf("inside the transaction GetSetting = %q, %v; want its own write", v, err)
			}
			if _, err := s.CreateModel(ctx, model("tx-commit")); err != nil {
				return err
			}
			store.AfterCommit(ctx, func() { committed = true })
			store.AfterTx(ctx, func(ctx context.Context) {
				ended = store.TxFrom(ctx) == nil
			})
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if setting("c") != "1" || len(mustFind(t, s, "tx-commit")) != 1 {
			t.Error("a committed transaction's writes are missing")
		}
		if !committed || !ended {
			t.Errorf("hooks: after commit ran %v, after tx ran without the tx %v; want both", committed, ended)
		}
	})

	t.Run("rollback", func(t *testing.T) {
		boom := errors.New("boom")
		var committed, ended bool
		err := s.InTx(ctx, func(ctx context.Context) error {
			if err := s.PutSetting(ctx, "r", "1"); err != nil {
				return err
			}
			if _, err := s.CreateModel(ctx, model("tx-rollback")); err != nil {
				return err
			}
			store.AfterCommit(ctx, func() { committed = true })
			store.AfterTx(ctx, func(context.Context) { ended = true })
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("InTx error = %v, want fn's", err)
		}
		if setting("r") != "<none>" || len(mustFind(t, s, "tx-rollback")) != 0 {
			t.Error("a rolled back transaction's writes are visible")
		}
		if committed || !ended {
			t.Errorf("hooks: after commit ran %v (want false), after tx ran %v (want true)", committed, ended)
		}
	})

	t.Run("fail", func(t *testing.T) {
		audit := errors.New("audit event not written")
		err := s.InTx(ctx, func(ctx context.Context) error {
			if err := s.PutSetting(ctx, "f", "1"); err != nil {
				return err
			}
			store.Fail(ctx, audit)
			return nil // the caller ignored the failure
		})
		if !errors.Is(err, audit) || !errors.Is(err, store.ErrTxFailed) {
			t.Fatalf("InTx error = %v, want the failure", err)
		}
		if setting("f") != "<none>" {
			t.Error("a transaction marked failed committed")
		}
	})

	t.Run("join and savepoint", func(t *testing.T) {
		err := s.InTx(ctx, func(ctx context.Context) error {
			if _, err := s.CreateModel(ctx, model("tx-join")); err != nil {
				return err
			}
			// A failing method inside undoes only itself.
			if _, err := s.CreateModel(ctx, model("tx-join")); !errdefs.IsConflict(err) {
				return fmt.Errorf("duplicate CreateModel = %w, want Conflict", err)
			}
			return s.InTx(ctx, func(ctx context.Context) error { return s.PutSetting(ctx, "j", "1") })
		})
		if err != nil {
			t.Fatal(err)
		}
		if setting("j") != "1" || len(mustFind(t, s, "tx-join")) != 1 {
			t.Error("joined transaction lost writes")
		}
		err = s.InTx(ctx, func(ctx context.Context) error {
			if err := s.InTx(ctx, func(ctx context.Context) error { return s.PutSetting(ctx, "j2", "1") }); err != nil {
				return err
			}
			return errors.New("outer fails")
		})
		if err == nil || setting("j2") != "<none>" {
			t.Errorf("the outer transaction's rollback kept a joined write (err %v)", err)
		}
	})

	t.Run("models without versions", func(t *testing.T) {
		before, err := s.ModelsWithoutVersions(ctx)
		if err != nil {
			t.Fatal(err)
		}
		m, err := s.CreateModel(ctx, model("tx-empty"))
		if err != nil {
			t.Fatal(err)
		}
		after, err := s.ModelsWithoutVersions(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(after) != len(before)+1 || after[len(after)-1].ID != m.ID {
			t.Fatalf("ModelsWithoutVersions = %d models (last %+v), want %d ending with %d", len(after), after[len(after)-1], len(before)+1, m.ID)
		}
		if _, _, err := s.AddModelVersion(ctx, m.ID, store.NewVersion{Version: store.ModelVersion{Algo: "A", Digest: "sha256:" + strings.Repeat("a", 64)}, Alias: "current", Reason: "r"}); err != nil {
			t.Fatal(err)
		}
		if again, err := s.ModelsWithoutVersions(ctx); err != nil || len(again) != len(before) {
			t.Fatalf("after adding a version ModelsWithoutVersions = %d, %v; want %d", len(again), err, len(before))
		}
	})

	t.Run("serialised", func(t *testing.T) {
		const n = 8
		if err := s.PutSetting(ctx, "counter", "0"); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		errs := make(chan error, n)
		for range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs <- s.InTx(ctx, func(ctx context.Context) error {
					v, err := s.GetSetting(ctx, "counter")
					if err != nil {
						return err
					}
					i, _ := strconv.Atoi(v)
					return s.PutSetting(ctx, "counter", strconv.Itoa(i+1))
				})
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		if got := setting("counter"); got != strconv.Itoa(n) {
			t.Errorf("counter = %s after %d read-modify-write transactions, want %d: transactions interleaved", got, n, n)
		}
	})
}

func mustFind(t *testing.T, s store.Store, name string) []store.Model {
	t.Helper()
	ms, err := s.FindModels(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	return ms
}
