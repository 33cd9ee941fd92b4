package server

import (
	"context"
	"os"
	"path/filepath"

	"github.com/dockyard/dockyard/internal/audit"
	"github.com/dockyard/dockyard/internal/index"
)

// openAudit opens the hash-chained audit log: every state change and every
// refused request is recorded there and indexed into _internal.
func (s *Server) openAudit(ctx context.Context) error {
	host, _ := os.Hostname()
	l, err := audit.Open(ctx, s.Store, audit.Options{
		KeyFile: filepath.Join(s.Config.Data, "audit", "ed25519.pem"),
		Host:    host,
		Logger:  s.Log,
	})
	if err != nil {
		return err
	}
	s.AuditLog = l
	s.Audit = l
	return nil
}

// openEvents builds the event index service and mounts the HTTP Event
// Collector, which authenticates its own requests with HEC tokens.
func (s *Server) openEvents(ctx context.Context) error {
	host, _ := os.Hostname()
	s.Index = index.NewService(s.Store, index.Options{Logger: s.Log, Host: host})
	hec, err := index.NewHEC(s.Index, index.HECOptions{MaxBodyBytes: s.Config.HEC.MaxBodyBytes, Logger: s.Log, Audit: s.Audit,
		AckMaxIDs: s.Config.HEC.AckMaxIDs, AckChannelIdle: s.Config.HEC.AckChannelIdle})
	if err != nil {
		return err
	}
	s.HEC = hec
	s.API.Mounts["/services/collector/"] = hec
	s.API.Mounts["/services/collector"] = hec
	return nil
}
