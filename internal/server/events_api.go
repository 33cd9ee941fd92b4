package server

import (
	"context"

	"github.com/dockyard/dockyard/internal/api"
)

// openEventsAPI mounts the routes of the audit trail, HEC tokens and event
// indexes. It runs after openEvents, which builds s.Index and s.AuditLog.
func (s *Server) openEventsAPI(_ context.Context) error {
	e := &api.EventsAPI{API: s.API, Index: s.Index, Chain: s.AuditLog}
	s.API.Extra = append(s.API.Extra, e.Routes()...)
	return nil
}
