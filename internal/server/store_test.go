package server_test

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/dockyard/dockyard/internal/server"
	"github.com/dockyard/dockyard/internal/server/servertest"
	"github.com/dockyard/dockyard/internal/store"
	"github.com/dockyard/dockyard/internal/store/sqlite"
	"github.com/dockyard/dockyard/internal/telemetry"
)

// wrappedStore is a store.Store that is not *sqlite.DB: the SQLite store
// behind a type that counts transactions and records its closing. A server
// that type-asserted its store to *sqlite.DB anywhere would fail on it.
type wrappedStore struct {
	store.Store
	txs    atomic.Int64
	closed atomic.Bool
}

func (w *wrappedStore) InTx(ctx context.Context, fn func(ctx context.Context) error) error {
	w.txs.Add(1)
	return w.Store.InTx(ctx, fn)
}

func (w *wrappedStore) Close() error {
	w.closed.Store(true)
	return w.Store.Close()
}

// TestServerAssemblesOnAnyStore starts a server on a store.Store that is
// not the SQLite type, uses it through the API (a token, an index and its
// events, a lookup, a search, a backup), and checks that the server worked
// through that store and closed it.
func TestServerAssemblesOnAnyStore(t *testing.T) {
	ctx := context.Background()
	cfg := servertest.Config(t.TempDir())
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), server.DBFile))
	if err != nil {
		t.Fatal(err)
	}
	ws := &wrappedStore{Store: db}
	h := servertest.StartOptions(t, cfg, telemetry.Discard(), server.Options{Store: ws})
	if h.Srv.Store() != store.Store(ws) {
		t.Fatalf("the server holds %T, not the store it was given", h.Srv.Store())
	}
	if _, err := h.Admin.CreateIndex(ctx, "web"); err != nil {
		t.Fatalf("create index: %v", err)
	}
	if _, err := h.Admin.UploadLookup(ctx, "hosts.csv", strings.NewReader("host,team\nweb1,ops\n")); err != nil {
		t.Fatalf("upload lookup: %v", err)
	}
	res, err := h.Admin.SearchAll(ctx, "| inputlookup hosts.csv", "search")
	if err != nil || len(res.Results) != 1 {
		t.Fatalf("search = %+v, %v; want the lookup's one row", res, err)
	}
	var backup bytes.Buffer
	if err := h.Admin.Backup(ctx, &backup); err != nil {
		t.Fatalf("backup through the wrapped store: %v", err)
	}
	if backup.Len() == 0 {
		t.Error("the backup is empty")
	}
	if ws.txs.Load() == 0 {
		t.Error("no transaction went through the store the server was given")
	}
	h.Stop()
	if !ws.closed.Load() {
		t.Error("the server did not close the store it was given")
	}
}
