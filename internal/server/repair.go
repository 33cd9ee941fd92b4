package server

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"

	"github.com/dockyard/dockyard/internal/audit"
	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/store"
)

// repairStore is what repairHalfDone reads and changes.
type repairStore interface {
	store.NotebookStore
	store.ModelStore
	store.SettingsStore
}

// reportedIncompleteKey is the setting that lists (comma-separated ids) the
// models without versions already reported by an audit event.
const reportedIncompleteKey = "repair.incomplete_models_reported"

// repairHalfDone looks, at start, for changes that an older version of
// Dockyard (which did not yet commit a change with its audit event in one
// transaction) left half done, and repairs or reports them:
//
//   - a notebook with no version (its row was written, the server died
//     before its first version) holds nothing: it is deleted, with a
//     notebook.repair audit event;
//   - a model with no version is reported, not deleted, since its sharing,
//     roles and description may have been set since: a warning in the log
//     at every start, a model.incomplete audit event once, and `models
//     list` marks it. Import or fit a version into it, or delete it.
func repairHalfDone(ctx context.Context, st repairStore, rec audit.Recorder, log *slog.Logger) error {
	nbs, err := st.ListNotebooks(ctx)
	if err != nil {
		return fmt.Errorf("start: look for notebooks without versions: %w", err)
	}
	for _, n := range nbs {
		if n.Latest != 0 {
			continue
		}
		err := st.InTx(ctx, func(ctx context.Context) error {
			if err := st.DeleteNotebook(ctx, n.ID); err != nil && !errdefs.IsNotFound(err) {
				return err
			}
			return rec.Record(ctx, audit.Event{User: "dockyard", Action: "notebook.repair", Object: notebookObject(n),
				App: n.App, Result: audit.ResultSuccess,
				Message: "deleted a notebook with no version, left half created by an interrupted push",
				Details: map[string]any{"owner": n.Owner, "sharing": n.Sharing}})
		})
		if err != nil {
			return fmt.Errorf("start: repair notebook %s/%s with no version: %w", n.App, n.Name, err)
		}
		log.Warn("deleted a notebook with no version, left half created by an interrupted push", "app", n.App, "notebook", n.Name, "owner", n.Owner)
	}

	ms, err := st.ModelsWithoutVersions(ctx)
	if err != nil {
		return fmt.Errorf("start: look for models without versions: %w", err)
	}
	if len(ms) == 0 {
		return nil
	}
	reported := map[int64]bool{}
	if v, err := st.GetSetting(ctx, reportedIncompleteKey); err == nil {
		for _, f := range strings.Split(v, ",") {
			if id, err := strconv.ParseInt(f, 10, 64); err == nil {
				reported[id] = true
			}
		}
	} else if !errdefs.IsNotFound(err) {
		return err
	}
	for _, m := range ms {
		log.Warn("model has no version (left by an interrupted import or fit of an older version): import or fit a version into it, or delete it",
			"app", m.App, "model", m.Name, "owner", m.Owner, "sharing", m.Sharing)
		if reported[m.ID] {
			continue
		}
		reported[m.ID] = true
		ids := make([]string, 0, len(reported))
		for _, x := range ms {
			if reported[x.ID] {
				ids = append(ids, strconv.FormatInt(x.ID, 10))
			}
		}
		slices.Sort(ids)
		err := st.InTx(ctx, func(ctx context.Context) error {
			if err := st.PutSetting(ctx, reportedIncompleteKey, strings.Join(ids, ",")); err != nil {
				return err
			}
			return rec.Record(ctx, audit.Event{User: "dockyard", Action: "model.incomplete", Object: modelObject(m),
				App: m.App, Result: audit.ResultFailure,
				Message: "model has no version: import or fit a version into it, or delete it",
				Details: map[string]any{"owner": m.Owner, "sharing": m.Sharing}})
		})
		if err != nil {
			return fmt.Errorf("start: report model %s/%s with no version: %w", m.App, m.Name, err)
		}
	}
	return nil
}

// modelObject and notebookObject name objects as knowledge.Kind.AuditObject does.
func modelObject(m store.Model) string {
	if m.Sharing == "user" {
		return "model:" + m.App + "/" + m.Owner + "/" + m.Name
	}
	return "model:" + m.App + "/" + m.Name
}

func notebookObject(n store.Notebook) string {
	if n.Sharing == "user" {
		return "notebook:" + n.App + "/" + n.Owner + "/" + n.Name
	}
	return "notebook:" + n.App + "/" + n.Name
}
