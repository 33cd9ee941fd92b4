package server_test

import (
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dockyard/dockyard/internal/client"
	"github.com/dockyard/dockyard/internal/server/servertest"
	"github.com/dockyard/dockyard/internal/store"
	"github.com/dockyard/dockyard/internal/store/sqlite"
	"github.com/dockyard/dockyard/internal/telemetry/telemetrytest"
)

// TestStartRepairsHalfDoneChanges: what an older version left half done
// (a model or a notebook row without a version) is reported or repaired
// at start, with an audit event, once.
func TestStartRepairsHalfDoneChanges(t *testing.T) {
	cfg := servertest.Config(t.TempDir())
	h := servertest.StartConfig(t, cfg)
	h.Stop()

	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(cfg.Data, "dockyard.db"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.CreateModel(ctx, store.Model{Name: "Half", App: "search", Owner: "admin", Sharing: "app"}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.CreateNotebook(ctx, store.Notebook{Name: "half_nb", App: "search", Owner: "admin", Sharing: "user"}); err != nil {
		t.Fatal(err)
	}
	db.Close()

	events := func(h *servertest.Harness, action string) int {
		t.Helper()
		var n int
		if err := h.Srv.SQLite().SQL().QueryRow(`SELECT count(*) FROM audit_chain WHERE body LIKE ?`, `%"action":"`+action+`"%`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	for start := 1; start <= 2; start++ {
		buf := &telemetrytest.LogBuffer{}
		h := servertest.StartWith(t, cfg, slog.New(slog.NewTextHandler(buf, nil)))
		if !strings.Contains(buf.String(), "model has no version") || !strings.Contains(buf.String(), "model=Half") {
			t.Errorf("start %d: the log does not report model Half without versions:\n%s", start, buf.String())
		}
		if n := events(h, "model.incomplete"); n != 1 {
			t.Errorf("start %d: %d model.incomplete events, want 1", start, n)
		}
		if n := events(h, "notebook.repair"); n != 1 {
			t.Errorf("start %d: %d notebook.repair events, want 1", start, n)
		}
		if nbs, err := h.Srv.Store().FindNotebooks(ctx, "half_nb"); err != nil || len(nbs) != 0 {
			t.Errorf("start %d: the notebook without a version is still there: %+v, %v", start, nbs, err)
		}
		page, err := h.Admin.Models(ctx, client.ModelFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Models) != 1 || page.Models[0].Latest != 0 {
			t.Errorf("start %d: models = %+v, want Half listed with no version", start, page.Models)
		}
		if v, err := h.Admin.AuditVerify(ctx); err != nil || !v.OK {
			t.Fatalf("start %d: audit verify = %+v, %v", start, v, err)
		}
		h.Stop()
	}
}
