package server

import (
	"context"
	"iter"
	"log/slog"
	"strings"

	"github.com/dockyard/dockyard/internal/api"
	"github.com/dockyard/dockyard/internal/audit"
	"github.com/dockyard/dockyard/internal/blob"
	"github.com/dockyard/dockyard/internal/config"
	"github.com/dockyard/dockyard/internal/index"
	"github.com/dockyard/dockyard/internal/lookups"
	"github.com/dockyard/dockyard/internal/search"
	"github.com/dockyard/dockyard/internal/store"
)

// newSearch builds the lookups service and the search and lookup routes.
// Searches read the event indexes of ix and run the model commands of
// mlCmds.
func newSearch(cfg config.Config, st store.LookupStore, blobs blob.Store, rec audit.Recorder, ix *index.Service, mlCmds search.ML, log *slog.Logger, a *api.API) []api.Route {
	lk := lookups.New(st, blobs, rec, lookups.Config{MaxBytes: cfg.Lookups.MaxBytes}, log.With("component", "lookups"))
	envs := searchEnvs{cfg: cfg.Search, lookups: lk, ml: mlCmds, events: indexEvents{ix}, log: log.With("component", "search")}
	sa := &api.SearchAPI{API: a, NewEnv: envs.new}
	la := &api.LookupsAPI{API: a, Lookups: lk}
	return append(sa.Routes(), la.Routes()...)
}

// searchEnvs makes the environment of each search.
type searchEnvs struct {
	cfg     config.Search
	lookups *lookups.Service
	ml      search.ML
	events  search.Events
	log     *slog.Logger
}

// new returns a fresh environment for one search in app by the caller in
// ctx: the configured limits, the lookups, the event indexes and the model
// commands.
func (e searchEnvs) new(_ context.Context, app string) *search.Env {
	return &search.Env{
		App: app,
		Limits: search.Limits{MaxRows: int(e.cfg.MaxRows), MaxTime: e.cfg.MaxTime,
			MaxMemory: e.cfg.MaxMemory, SubsearchMaxRows: int(e.cfg.SubsearchMaxRows),
			SubsearchMaxTime: e.cfg.SubsearchMaxTime},
		Lookups:        e.lookups,
		ML:             e.ml,
		Events:         e.events,
		Logger:         e.log,
		DefaultIndexes: splitIndexes(e.cfg.DefaultIndexes),
	}
}

// indexEvents adapts the event index service to search.Events. The index
// service checks the caller's index permissions from ctx.
type indexEvents struct{ ix *index.Service }

func (e indexEvents) Events(ctx context.Context, q index.Query) iter.Seq2[index.Event, error] {
	return e.ix.Search(ctx, q)
}

func splitIndexes(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
