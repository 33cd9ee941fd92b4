package server

import (
	"github.com/dockyard/dockyard/internal/audit"
	"github.com/dockyard/dockyard/internal/index"
	"github.com/dockyard/dockyard/internal/notebooks"
	"github.com/dockyard/dockyard/internal/pki"
	"github.com/dockyard/dockyard/internal/store"
	"github.com/dockyard/dockyard/internal/store/sqlite"
	"github.com/dockyard/dockyard/internal/telemetry"
)

// The parts of a server that only its tests reach.

func (s *Server) Store() store.Store                      { return s.store }
func (s *Server) Index() *index.Service                   { return s.index }
func (s *Server) CA() *pki.CA                             { return s.endpoint.ca }
func (s *Server) Metrics() *telemetry.Metrics             { return s.obs.metrics }
func (s *Server) Tracing() *telemetry.Tracing             { return s.obs.tracing }
func (s *Server) Observability() *telemetry.Observability { return s.obs.settings }
func (s *Server) AuditLog() *audit.Log                    { return s.auditLog }
func (s *Server) Notebooks() *notebooks.Service           { return s.notebooks }

// SQLite is the store as the SQLite database, for tests that reach into
// its tables; it panics on a server given another store (Options.Store).
func (s *Server) SQLite() *sqlite.DB { return s.store.(*sqlite.DB) }
