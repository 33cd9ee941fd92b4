package server

import (
	"context"
	"iter"
	"strings"

	"github.com/dockyard/dockyard/internal/api"
	"github.com/dockyard/dockyard/internal/index"
	"github.com/dockyard/dockyard/internal/lookups"
	"github.com/dockyard/dockyard/internal/search"
)

// openSearch builds the lookups service and mounts the search and lookup
// routes. It runs after openEvents, which builds s.Index.
func (s *Server) openSearch(_ context.Context) error {
	s.Lookups = lookups.New(s.Store, s.Blobs, s.Audit,
		lookups.Config{MaxBytes: s.Config.Lookups.MaxBytes}, s.Log.With("component", "lookups"))
	sa := &api.SearchAPI{API: s.API, NewEnv: s.SearchEnv}
	la := &api.LookupsAPI{API: s.API, Lookups: s.Lookups}
	s.API.Extra = append(s.API.Extra, sa.Routes()...)
	s.API.Extra = append(s.API.Extra, la.Routes()...)
	return nil
}

// SearchEnv returns a fresh environment for one search in app by the
// caller in ctx: the configured limits, the lookups, the event indexes and
// the model commands of s.SearchML (read now, so it may be set after New
// and before Serve).
func (s *Server) SearchEnv(_ context.Context, app string) *search.Env {
	env := &search.Env{
		App: app,
		Limits: search.Limits{MaxRows: int(s.Config.Search.MaxRows), MaxTime: s.Config.Search.MaxTime,
			MaxMemory: s.Config.Search.MaxMemory, SubsearchMaxRows: int(s.Config.Search.SubsearchMaxRows),
			SubsearchMaxTime: s.Config.Search.SubsearchMaxTime},
		Lookups:        s.Lookups,
		ML:             s.SearchML,
		Logger:         s.Log.With("component", "search"),
		DefaultIndexes: splitIndexes(s.Config.Search.DefaultIndexes),
	}
	if s.Index != nil {
		env.Events = indexEvents{s.Index}
	}
	return env
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
