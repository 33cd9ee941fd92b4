package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	"github.com/dockyard/dockyard/internal/store"
	"github.com/dockyard/dockyard/internal/store/storetest"
)

func openTemp(t *testing.T) *DB {
	t.Helper()
	db, err := Open(context.Background(), filepath.Join(t.TempDir(), "dockyard.db"))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return openTemp(t) })
}

func TestFiles(t *testing.T) { storetest.RunFiles(t, Files) }

func TestReopenKeepsData(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "dockyard.db")
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if err := db.CreateUser(ctx, store.User{Name: "alice", Roles: []string{"user"}}); err != nil {
		t.Fatalf("CreateUser: %v", err)
	}
	if err := db.PutSetting(ctx, "server_id", "s1"); err != nil {
		t.Fatalf("PutSetting: %v", err)
	}
	if err := db.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	db, err = Open(ctx, path)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer db.Close()
	if u, err := db.GetUser(ctx, "alice"); err != nil || len(u.Roles) != 1 || u.Roles[0] != "user" {
		t.Fatalf("GetUser after reopen = %+v, %v", u, err)
	}
	if v, err := db.GetSetting(ctx, "server_id"); err != nil || v != "s1" {
		t.Fatalf("GetSetting after reopen = %q, %v", v, err)
	}
}

func TestMigrationsIdempotent(t *testing.T) {
	ctx := context.Background()
	db := openTemp(t)
	count := func() int {
		var n int
		if err := db.SQL().QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations`).Scan(&n); err != nil {
			t.Fatalf("count migrations: %v", err)
		}
		return n
	}
	entries, err := migrations.ReadDir("migrations")
	if err != nil {
		t.Fatal(err)
	}
	want := 0
	for _, e := range entries {
		if filepath.Ext(e.Name()) == ".sql" {
			want++
		}
	}
	if got := count(); got != want {
		t.Fatalf("schema_migrations has %d rows after Open, want %d (one per embedded file)", got, want)
	}
	for i := 0; i < 2; i++ {
		if err := db.migrate(ctx); err != nil {
			t.Fatalf("migrate again (%d): %v", i, err)
		}
	}
	if got := count(); got != want {
		t.Fatalf("schema_migrations has %d rows after migrating again, want %d", got, want)
	}
}

// TestPragmas checks WAL and foreign keys on several pooled connections at
// once: a pragma set on one connection only would pass a one-query check.
func TestPragmas(t *testing.T) {
	ctx := context.Background()
	db := openTemp(t)
	for i := 0; i < 3; i++ {
		conn, err := db.SQL().Conn(ctx)
		if err != nil {
			t.Fatalf("Conn: %v", err)
		}
		defer conn.Close()
		var mode string
		var fk, busy int
		if err := conn.QueryRowContext(ctx, `PRAGMA journal_mode`).Scan(&mode); err != nil {
			t.Fatal(err)
		}
		if err := conn.QueryRowContext(ctx, `PRAGMA foreign_keys`).Scan(&fk); err != nil {
			t.Fatal(err)
		}
		if err := conn.QueryRowContext(ctx, `PRAGMA busy_timeout`).Scan(&busy); err != nil {
			t.Fatal(err)
		}
		if mode != "wal" || fk != 1 || busy <= 0 {
			t.Errorf("connection %d: journal_mode=%s foreign_keys=%d busy_timeout=%d; want wal, 1, > 0", i, mode, fk, busy)
		}
	}
}

// TestConcurrentWrites checks that parallel writers wait for each other
// (busy timeout, immediate transactions) instead of failing with "database
// is locked".
func TestConcurrentWrites(t *testing.T) {
	ctx := context.Background()
	db := openTemp(t)
	if err := db.CreateUser(ctx, store.User{Name: "alice"}); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 16*20)
	for g := 0; g < 16; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 20; i++ {
				id := fmt.Sprintf("g%d-%d", g, i)
				if err := db.CreateToken(ctx, store.Token{ID: id, Kind: store.TokenAPI, User: "alice", Hash: id}); err != nil {
					errs <- err
				}
				if err := db.PutSetting(ctx, "k", id); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("concurrent write: %v", err)
	}
	if list, err := db.ListTokens(ctx, "alice"); err != nil || len(list) != 16*20 {
		t.Fatalf("ListTokens = %d, %v; want %d", len(list), err, 16*20)
	}
}
